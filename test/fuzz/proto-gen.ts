// Generators of protocol-level text frames: seed frames before and after login, and pushgate.v1
// frames of every type (auth, send, ping, refresh, unknown), with wrong field types, deep and
// wide data, huge ids and recover maps, valid or mutated.
import {
  type Rng, type Template, anyString, deepDepth, deepText, jsonText, mutateTemplate, mutateText, nameString,
  numberText, objectText, stringLiteral, wideText, wrongValueText,
} from "./prng.ts";

const s = JSON.stringify;

/** A uid for a login: mostly valid and unique to the case, sometimes any string. */
export function loginUid(r: Rng, base: string): string {
  return r.weighted<() => string>([
    [8, () => base],
    [1, () => r.pick(["all", "", "a:b", "x\u0000y", "u".repeat(128), "u".repeat(129), "😀".repeat(64), "😀".repeat(65), "\u0085", "\ud800"])],
    [1, () => anyString(r, 20)],
  ])();
}

/** Any uid-ish target for a seed `X:payload` or a `uid:` send. */
function targetUid(r: Rng, own: string): string {
  return r.weighted<() => string>([
    [4, () => own],
    [2, () => `fzp-off-${nameString(r, 6)}`],
    [1, () => r.pick(["", "all", "x\u0001", "t".repeat(129), "é", "a b", "\u2028"])],
    [1, () => anyString(r, 15)],
  ])();
}

function payload(r: Rng): string {
  return r.chance(0.05) ? "p".repeat(r.pick([1000, 65_000, 70_000])) : anyString(r);
}

/** Seed frames after the login frame. */
export function seedFrame(r: Rng, own: string): string {
  return r.weighted<() => string>([
    [4, () => `${targetUid(r, own)}:${payload(r)}`],
    [2, () => `all:${payload(r)}`],
    [1, () => anyString(r).replace(/:/g, "")], // no colon
    [1, () => `:${payload(r)}`],
    [1, () => `${own}:${own}:${payload(r)}`], // colons kept in the payload
    [1, () => anyString(r, 40)],
  ])();
}

function idText(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => String(r.int(0, 1e6))],
    [2, () => s(nameString(r, 10))],
    [1, () => numberText(r)],
    [1, () => s("i".repeat(r.pick([63, 64, 65, 1000])))],
    [1, () => stringLiteral(r, anyString(r, 70))],
    [1, () => wrongValueText(r)],
  ])();
}

function recoverText(r: Rng, own: string): string {
  const pos = () => objectText([["epoch", r.chance(0.8) ? s(Buffer.from(r.bytes(4)).toString("hex")) : s("e".repeat(r.pick([64, 65])))], ["offset", r.chance(0.8) ? String(r.int(0, 5)) : r.pick(["-1", "1.5", "9007199254740992", "\"1\"", "null", "1e400"])]]);
  return r.weighted<() => string>([
    [4, () => objectText(r.pick([[`uid:${own}`], ["all"], [`uid:${own}`, "all"], ["group:g", "uid:other"], []]).map((k) => [k, pos()] as [string, string]))],
    [1, () => objectText(Array.from({ length: r.pick([1024, 1025, 3000]) }, (_, i) => [`uid:s${i}`, pos()] as [string, string]))],
    [1, () => objectText([[`uid:${own}`, wrongValueText(r)]])],
    [1, () => wrongValueText(r)],
    [1, () => "null"],
  ])();
}

function dataText(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => jsonText(r, { depth: 3, width: 5 })],
    [1, () => deepText(r, deepDepth(r) % 30_000 + 2)],
    [1, () => wideText(r, r.pick([100, 5000]))],
  ])();
}

function template(r: Rng, own: string, loggedIn: boolean): Template {
  const id = (): [string, string] => ["id", idText(r)];
  const kind = r.weighted<string>([[loggedIn ? 1 : 6, "auth"], [loggedIn ? 6 : 1, "send"], [2, "ping"], [1, "refresh"], [1, "unknown"]]);
  switch (kind) {
    case "auth": {
      const t: Template = [["type", s("auth")], ["uid", s(loginUid(r, own))]];
      if (r.chance(0.3)) t.push(["recover", recoverText(r, own)]);
      if (r.chance(0.2)) t.push(id());
      return t;
    }
    case "send": {
      const to = r.weighted<() => string>([
        [3, () => `uid:${targetUid(r, own)}`], [2, () => "all"], [1, () => `group:${r.pick(["g", "", "a:b", nameString(r)])}`],
        [1, () => r.pick(["uid", "group", "everyone", "ALL", "uid:", nameString(r)])],
      ])();
      return [["type", s("send")], id(), ["to", s(to)], ["data", dataText(r)]];
    }
    case "ping": return r.chance(0.7) ? [["type", s("ping")], id()] : [["type", s("ping")]];
    case "refresh": return [["type", s("refresh")], id(), ["token", s(nameString(r))]];
    default: return [["type", r.chance(0.8) ? s(nameString(r, 40)) : wrongValueText(r)], id()];
  }
}

/** One pushgate.v1 frame: a template (maybe mutated), or not an object at all. */
export function jsonFrame(r: Rng, own: string, loggedIn: boolean): string {
  const t = template(r, own, loggedIn);
  return r.weighted<() => string>([
    [6, () => objectText(t)],
    [3, () => objectText(mutateTemplate(r, t))],
    [1, () => mutateText(r, objectText(t))],
    [1, () => r.chance(0.5) ? wrongValueText(r) : deepText(r, deepDepth(r) % 30_000 + 2)],
  ])();
}
