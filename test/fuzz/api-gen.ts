// Generators of HTTP API requests: a valid body per method (docs/http-api.md), then wrong types,
// deep and wide values, huge arrays, mutated text, odd content types, chunked or empty bodies,
// other HTTP verbs and misspelt method names.
import {
  type Rng, type Template, anyString, deepDepth, deepText, jsonText, mutateString, mutateTemplate, mutateText,
  nameString, objectText, stringLiteral, wideText, wrongValueText,
} from "./prng.ts";

/** Names and ids a generator may use: live victim connections, plus anything random. */
export interface Pools {
  clientIds: string[];
  uids: string[];
  groups: string[];
}

const s = JSON.stringify;

function pickOr(r: Rng, pool: string[], other: () => string): string {
  return pool.length > 0 && r.chance(0.6) ? r.pick(pool) : other();
}

function uidText(r: Rng, p: Pools): string {
  return r.weighted<() => string>([
    [6, () => s(pickOr(r, p.uids, () => `fzu-${nameString(r, 6)}`))],
    [1, () => s(r.pick(["all", "", "a:b", "x\u0001", "é".repeat(129), "a".repeat(128), "\ud800"]))],
    [1, () => stringLiteral(r, anyString(r, 10))],
  ])();
}

function groupText(r: Rng, p: Pools): string {
  return r.weighted<() => string>([
    [6, () => s(pickOr(r, p.groups, () => `fzg-${r.int(0, 5)}`))],
    [1, () => s(r.pick(["", "a:b", "all", "\u009f", "g".repeat(129)]))],
    [1, () => stringLiteral(r, anyString(r, 10))],
  ])();
}

function clientIdText(r: Rng, p: Pools): string {
  return r.weighted<() => string>([
    [6, () => s(pickOr(r, p.clientIds, () => "0".repeat(20)))],
    [2, () => s(p.clientIds.length > 0 ? mutateString(r, r.pick(p.clientIds)) : nameString(r))],
    [1, () => s(r.pick(["", "x".repeat(64), "x".repeat(65), "ffffffff000000000000"]))],
  ])();
}

/** A target list: one, several, empty, or many (E_TOO_MANY_TARGETS territory). */
function listText(r: Rng, one: () => string): string {
  return r.weighted<() => string>([
    [5, one],
    [2, () => `[${Array.from({ length: r.int(1, 5) }, one).join(",")}]`],
    [1, () => "[]"],
    [1, () => `[${Array.from({ length: r.pick([999, 1000, 1001, 5000]) }, one).join(",")}]`],
  ])();
}

function dataText(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => jsonText(r, { depth: 3, width: 5 })],
    [1, () => deepText(r, deepDepth(r))],
    [1, () => wideText(r, r.pick([1000, 20_000]))],
    [1, () => stringLiteral(r, "d".repeat(r.pick([1000, 100_000])))],
  ])();
}

function sessionText(r: Rng): string {
  return r.weighted<() => string>([
    [4, () => jsonText(r, { depth: 2, width: 4 }).replace(/^[^{].*$/s, "{}")],
    [1, () => objectText([["blob", s("b".repeat(r.pick([100, 4000, 5000])))]])],
    [1, () => objectText([["k", deepText(r, deepDepth(r))]])],
    [1, () => objectText([["gone", "null"], [nameString(r), jsonText(r)]])],
  ])();
}

const sendExtras = (r: Rng, p: Pools, t: Template): Template => {
  if (r.chance(0.2)) t.push(["idempotencyKey", r.chance(0.8) ? s(`k${r.int(0, 30)}`) : wrongValueText(r)]);
  return t;
};
const exclude = (r: Rng, p: Pools, t: Template): Template => {
  if (r.chance(0.3)) t.push(["exclude", r.chance(0.8) ? `[${Array.from({ length: r.size(1500) }, () => clientIdText(r, p)).join(",")}]` : wrongValueText(r)]);
  return t;
};

/** A valid-looking body for each method of src/api/methods/index.ts (plus batch, below). */
export const TEMPLATES: Record<string, (r: Rng, p: Pools) => Template> = {
  sendToUid: (r, p) => sendExtras(r, p, [["uid", listText(r, () => uidText(r, p))], ["data", dataText(r)]]),
  sendToClient: (r, p) => sendExtras(r, p, [["clientId", listText(r, () => clientIdText(r, p))], ["data", dataText(r)]]),
  sendToGroup: (r, p) => sendExtras(r, p, exclude(r, p, [["group", listText(r, () => groupText(r, p))], ["data", dataText(r)]])),
  sendToAll: (r, p) => sendExtras(r, p, exclude(r, p, r.chance(0.3)
    ? [["clientId", listText(r, () => clientIdText(r, p))], ["data", dataText(r)]]
    : [["data", dataText(r)]])),
  bindUid: (r, p) => [["clientId", clientIdText(r, p)], ["uid", uidText(r, p)]],
  unbindUid: (r, p) => (r.chance(0.5) ? [["clientId", clientIdText(r, p)]] : [["clientId", clientIdText(r, p)], ["uid", uidText(r, p)]]),
  joinGroup: (r, p) => [r.chance(0.7) ? ["clientId", clientIdText(r, p)] : ["uid", uidText(r, p)], ["group", groupText(r, p)]],
  leaveGroup: (r, p) => [r.chance(0.7) ? ["clientId", clientIdText(r, p)] : ["uid", uidText(r, p)], ["group", groupText(r, p)]],
  ungroup: (r, p) => [["group", groupText(r, p)]],
  isOnline: (r, p) => [["clientId", clientIdText(r, p)]],
  isUidOnline: (r, p) => [["uid", uidText(r, p)]],
  getClientIdByUid: (r, p) => [["uid", uidText(r, p)]],
  getUidByClientId: (r, p) => [["clientId", clientIdText(r, p)]],
  getAllClientCount: () => [],
  getAllUidCount: () => [],
  getAllUidList: () => [],
  getClientCountByGroup: (r, p) => [["group", groupText(r, p)]],
  getClientIdCountByGroup: (r, p) => [["group", groupText(r, p)]],
  getUidCountByGroup: (r, p) => [["group", groupText(r, p)]],
  getPresence: (r, p) => [["group", groupText(r, p)]],
  getClientIdListByGroup: (r, p) => [["group", groupText(r, p)]],
  getUidListByGroup: (r, p) => [["group", groupText(r, p)]],
  getAllGroupIdList: () => [],
  getAllClientIdCount: () => [],
  getAllClientIdList: () => [],
  getAllGroupClientIdList: () => [],
  getAllGroupClientIdCount: () => [],
  getAllGroupUidList: () => [],
  getAllGroupUidCount: () => [],
  getClientSessionsByGroup: (r, p) => [["group", groupText(r, p)]],
  getClientInfoByGroup: (r, p) => [["group", groupText(r, p)]],
  getAllClientSessions: (r, p) => (r.chance(0.5) ? [] : [["group", groupText(r, p)]]),
  getAllClientInfo: (r, p) => (r.chance(0.5) ? [] : [["group", groupText(r, p)]]),
  destroyClient: (r, p) => [["clientId", clientIdText(r, p)]],
  destoryClient: (r, p) => [["clientId", clientIdText(r, p)]],
  sendToCurrentClient: (r) => [["data", dataText(r)]],
  closeCurrentClient: () => [],
  destoryCurrentClient: () => [],
  setSession: (r, p) => [["clientId", clientIdText(r, p)], ["session", sessionText(r)]],
  updateSession: (r, p) => [["clientId", clientIdText(r, p)], ["session", sessionText(r)]],
  getSession: (r, p) => [["clientId", clientIdText(r, p)]],
  closeClient: (r, p) => {
    const t: Template = [["clientId", clientIdText(r, p)]];
    if (r.chance(0.5)) t.push(["message", dataText(r)]);
    if (r.chance(0.5)) t.push(["reason", r.chance(0.8) ? s(anyString(r, 30).slice(0, 100)) : s("é".repeat(r.pick([61, 62, 100])))]);
    return t;
  },
};

/** Body text of a method call: its template, usually then mutated. */
export function bodyFor(r: Rng, method: string, p: Pools): string {
  if (method === "batch") return batchBody(r, p);
  const template = TEMPLATES[method]!(r, p);
  return r.weighted<() => string>([
    [3, () => objectText(template)],
    [4, () => objectText(mutateTemplate(r, template))],
    [2, () => mutateText(r, objectText(template))],
    [1, () => wrongValueText(r)], // not an object at all
    [1, () => deepText(r, deepDepth(r))],
  ])();
}

function batchBody(r: Rng, p: Pools): string {
  const methods = Object.keys(TEMPLATES);
  const call = (): string => r.weighted<() => string>([
    [8, () => { const m = r.pick(methods); return objectText([["method", s(m)], ["params", objectText(r.chance(0.7) ? TEMPLATES[m]!(r, p) : mutateTemplate(r, TEMPLATES[m]!(r, p)))]]); }],
    [1, () => objectText([["method", s(r.pick(["batch", "nope", "", "constructor", "__proto__", "toString"]))]])],
    [1, () => objectText([["method", s(r.pick(methods))], ["params", wrongValueText(r)]])],
    [1, () => wrongValueText(r)],
  ])();
  const n = r.weighted<() => number>([[8, () => r.int(0, 6)], [1, () => r.pick([999, 1000, 1001])], [1, () => r.int(20, 200)]])();
  // Long batches get cheap calls (a thousand deep bodies would only test the body limit).
  const cheap = () => objectText([["method", s(r.pick(["isUidOnline", "getAllClientCount", "sendToUid", "nope"]))], ["params", objectText([["uid", uidText(r, p)], ["data", s(r.int(0, 9))]])]]);
  const calls = `[${Array.from({ length: n }, n > 10 ? cheap : call).join(",")}]`;
  const body = r.chance(0.85) ? objectText([["calls", calls]]) : objectText([["calls", wrongValueText(r)]]);
  return r.chance(0.2) ? mutateText(r, body) : body;
}

export interface ApiRequest {
  verb: string;
  name: string;
  query: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  chunked: boolean;
}

/** A whole request around a body. */
export function requestFor(r: Rng, p: Pools, methods: readonly string[]): ApiRequest {
  const method = r.pick(methods);
  let name = method;
  if (r.chance(0.05)) name = mutateString(r, method);
  if (r.chance(0.02)) name = r.pick(["", "constructor", "__proto__", "hasOwnProperty", "batch/x", "%00", "sendToAll%20"]);
  const verb = r.weighted<string>([[30, "POST"], [1, "GET"], [1, "PUT"], [1, "DELETE"], [1, "PATCH"], [1, "HEAD"], [1, "OPTIONS"]]);
  const headers: Record<string, string> = {};
  const ct = r.weighted<string | null>([[6, "application/json"], [1, null], [1, "text/plain"], [1, "application/x-www-form-urlencoded"], [1, "multipart/form-data; boundary=x"], [1, "application/json; charset=latin1"]]);
  if (ct !== null) headers["content-type"] = ct;
  // Printable ASCII only: Bun's HTTP parser itself refuses control characters in a header (bare 400).
  if (r.chance(0.05)) headers.authorization = r.pick(["Bearer", "Bearer x", "Basic Zm9vOmJhcg==", "bearer  " + nameString(r).replace(/[^\x21-\x7e]/g, "x")]);
  let body: string | Uint8Array | null = bodyFor(r, method, p);
  const shape = r.weighted<string>([[20, "text"], [1, "empty"], [1, "whitespace"], [1, "bytes"], [1, "huge"], [1, "bom"]]);
  if (shape === "empty") body = r.chance(0.5) ? "" : null;
  if (shape === "whitespace") body = r.pick([" ", "\n\t ", "\ufeff", "\u00a0"]);
  if (shape === "bytes") body = r.bytes(r.int(1, 200)); // not even UTF-8, most of the time
  if (shape === "bom") body = "\ufeff" + body; // a UTF-8 byte order mark before the JSON
  if (shape === "huge") body = objectText([["data", s("h".repeat(r.pick([1024 * 1024 - 20, 1024 * 1024 + 1, 1_100_000])))]]);
  if (verb === "GET" || verb === "HEAD") body = null; // fetch refuses a body on these
  return { verb, name, query: r.chance(0.1) ? `?${nameString(r)}=${nameString(r)}` : "", headers, body, chunked: body !== null && r.chance(0.15) };
}

/** A ReadableStream of `bytes` in a few random chunks: a chunked request body. */
export function chunkedBody(r: Rng, bytes: Uint8Array): ReadableStream<Uint8Array> {
  const cuts: number[] = [];
  for (let at = 0; at < bytes.length; at += r.int(1, Math.max(1, Math.ceil(bytes.length / 3)))) cuts.push(at);
  cuts.push(bytes.length);
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= cuts.length - 1) return c.close();
      c.enqueue(bytes.slice(cuts[i], cuts[i + 1]));
      i++;
    },
  });
}
