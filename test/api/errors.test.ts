// HTTP-level errors: wrong verb, unknown method, bad JSON, bad params, oversized bodies, metrics.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";

const MAX_BODY = 1024;
const pg = startTestServer({ apiMaxBody: MAX_BODY });
afterAll(() => pg.shutdown());

interface Answer { status: number; headers: Headers; body: any }

async function post(method: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${pg.url}/api/${method}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** A fetch body streamed in `chunk`-byte pieces, so it goes out chunked, without content-length. */
function streamed(text: string, chunk: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) { c.close(); return; }
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

/** A sendToUid body of exactly `bytes` bytes (ASCII). */
function sendBodyOf(uid: string, bytes: number): string {
  const head = `{"uid":"${uid}","data":"`;
  return head + "x".repeat(bytes - head.length - 2) + `"}`;
}

const badParams = (status: number, code: string, message: string, field?: string) =>
  ({ status, body: { error: field === undefined ? { code, message } : { code, message, field } } });

describe("routing", () => {
  test("GET (or PUT) /api/<method> → 405 with Allow: POST", async () => {
    for (const [verb, path] of [["GET", "sendToUid"], ["PUT", "sendToUid"], ["GET", "noSuchMethod"]] as const) {
      const res = await fetch(`${pg.url}/api/${path}`, { method: verb });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(await res.json()).toEqual({ error: { code: "E_METHOD_NOT_ALLOWED", message: "use POST /api/<method>" } });
    }
  });

  test("unknown method → 404 E_UNKNOWN_METHOD (names are own keys, case-sensitive)", async () => {
    for (const name of ["nope", "SendToUid", "constructor", "__proto__", "hasOwnProperty", "toString", ""]) {
      expect(await api(pg, name, { uid: "u", data: "x" }))
        .toEqual(badParams(404, "E_UNKNOWN_METHOD", `unknown method ${JSON.stringify(name)}`));
    }
  });
});

describe("bodies", () => {
  test("invalid JSON → 400 E_BAD_JSON", async () => {
    for (const text of ["{", "{uid:1}", "{\"uid\":\"a\",}", "nul"]) {
      const r = await api(pg, "sendToUid", text);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("E_BAD_JSON");
      expect(r.body.error.message).toStartWith("body is not valid JSON: ");
      expect(r.body.error.field).toBeUndefined();
    }
  });

  test("a JSON array, string, number or null body → 400 E_BAD_JSON", async () => {
    for (const text of ["[1,2]", "[]", '"str"', "42", "null", "true"]) {
      expect(await api(pg, "sendToUid", text)).toEqual(badParams(400, "E_BAD_JSON", "body must be a JSON object of named parameters"));
    }
  });

  test("an empty body is {}", async () => {
    expect(await api(pg, "getAllGroupIdList", "")).toEqual({ status: 200, body: { result: [] } });
    expect(await api(pg, "sendToUid", "  \n")).toEqual(badParams(400, "E_BAD_PARAMS", "uid: is required", "uid"));
  });

  test("a body over apiMaxBody → 413 E_BODY_TOO_LARGE, with content-length and streamed", async () => {
    using c = await TestClient.login(pg, "big");
    // At the limit: accepted, both ways.
    const atLimit = sendBodyOf("big", MAX_BODY);
    expect(atLimit.length).toBe(MAX_BODY);
    expect(await post("sendToUid", atLimit)).toMatchObject({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe(JSON.parse(atLimit).data);
    expect(await post("sendToUid", streamed(atLimit, 100))).toMatchObject({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe(JSON.parse(atLimit).data);

    // One byte over, and far over: refused, nothing delivered.
    for (const size of [MAX_BODY + 1, 4 * MAX_BODY]) {
      const body = sendBodyOf("big", size);
      const declared = await post("sendToUid", body);
      expect(declared.status).toBe(413);
      expect(declared.body).toEqual({ error: { code: "E_BODY_TOO_LARGE", message: `request body is ${size}+ bytes, over the limit of ${MAX_BODY} (--api-max-body)` } });
      const chunked = await post("sendToUid", streamed(body, 256));
      expect(chunked.status).toBe(413);
      expect(chunked.body.error.code).toBe("E_BODY_TOO_LARGE");
      expect(chunked.body.error.message).toEndWith(`over the limit of ${MAX_BODY} (--api-max-body)`);
    }
    expect(await c.nothingWithin()).toBe(true);
  });

  test("a chunked body whose one chunk passes Bun's own cap: Bun's bare 413, no internal error", async () => {
    const before = await metrics(pg);
    const size = 2 * MAX_BODY + 65536 + 1000;
    const res = await fetch(`${pg.url}/api/sendToUid`, { method: "POST", body: streamed(sendBodyOf("cap", size), size) });
    expect(res.status).toBe(413);
    expect(await res.text()).toBe("");
    await Bun.sleep(20);
    const after = await metrics(pg);
    for (const series of ['pushgate_errors_total{code="E_INTERNAL"}', 'pushgate_errors_total{code="E_BODY_TOO_LARGE"}']) {
      expect({ series, moved: metricValue(after, series) - metricValue(before, series) }).toEqual({ series, moved: 0 });
    }
  });

  test("a leading UTF-8 BOM is dropped alike with Content-Length and chunked", async () => {
    const body = "\ufeff" + JSON.stringify({ uid: "bom-nobody", data: "x" });
    const want = { status: 200, body: { result: { reached: 0, offline: ["bom-nobody"] } } };
    expect(await post("sendToUid", body)).toMatchObject(want);
    expect(await post("sendToUid", streamed(body, 2))).toMatchObject(want);
  });

  test("a streamed body split inside multi-byte characters is decoded whole", async () => {
    using c = await TestClient.login(pg, "utf8");
    const data = "€uro ✓ ünïcødé 🎉".repeat(5);
    expect(await post("sendToUid", streamed(JSON.stringify({ uid: "utf8", data }), 7)))
      .toMatchObject({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe(data);
  });
});

describe("params", () => {
  test("a missing field → 400 E_BAD_PARAMS naming it", async () => {
    expect(await api(pg, "sendToUid", { data: "x" })).toEqual(badParams(400, "E_BAD_PARAMS", "uid: is required", "uid"));
    expect(await api(pg, "sendToUid", { uid: "u" })).toEqual(badParams(400, "E_BAD_PARAMS", "data: is required", "data"));
    expect(await api(pg, "sendToGroup", { data: "x" })).toEqual(badParams(400, "E_BAD_PARAMS", "group: is required", "group"));
    expect(await api(pg, "sendToClient", { data: "x" })).toEqual(badParams(400, "E_BAD_PARAMS", "clientId: is required", "clientId"));
    expect(await api(pg, "sendToAll", {})).toEqual(badParams(400, "E_BAD_PARAMS", "data: is required", "data"));
    expect(await api(pg, "sendToUid", { uid: [], data: "x" })).toEqual(badParams(400, "E_BAD_PARAMS", "uid: must not be an empty array", "uid"));
  });

  test("an invalid uid → 400 E_INVALID_UID naming the field (and the array index)", async () => {
    using c = await TestClient.login(pg, "valid");
    const long = "u".repeat(129);
    const cases: Array<[unknown, string, string]> = [
      ["a:b", "uid", "uid must not contain ':'"],
      [["valid", "a:b"], "uid[1]", "uid must not contain ':'"],
      [long, "uid", "uid is longer than 128 characters"],
      [["valid", long], "uid[1]", "uid is longer than 128 characters"],
      ["a\u0001b", "uid", "uid must not contain control characters"],
      ["tab\there", "uid", "uid must not contain control characters"],
      ["del\u007f", "uid", "uid must not contain control characters"],
      ["c1\u0085", "uid", "uid must not contain control characters"],
      [["valid", "valid", "\n"], "uid[2]", "uid must not contain control characters"],
      ["", "uid", "uid must not be empty"],
      [5, "uid", "uid must be a string"],
      [["valid", null], "uid[1]", "uid must be a string"],
      [["x:1", "y:2"], "uid[0]", "uid must not contain ':'"],
    ];
    for (const [uid, field, problem] of cases) {
      expect(await api(pg, "sendToUid", { uid, data: "nope" })).toEqual(badParams(400, "E_INVALID_UID", `${field}: ${problem}`, field));
    }
    // Nothing of a refused call is delivered, not even to the valid uids in its list.
    expect(await c.nothingWithin()).toBe(true);
    // 128 characters is still valid.
    expect(await api(pg, "sendToUid", { uid: "u".repeat(128), data: "x" })).toEqual({ status: 200, body: { result: { reached: 0, offline: ["u".repeat(128)] } } });
    expect(await api(pg, "sendToGroup", { group: ["ok", "b:c"], data: "x" }))
      .toEqual(badParams(400, "E_INVALID_GROUP", "group[1]: group must not contain ':'", "group[1]"));
  });
});

test("after all the garbage the server still serves, and the metrics moved by exact amounts", async () => {
  using c = await TestClient.login(pg, "survivor");
  const before = await metrics(pg);

  expect((await fetch(`${pg.url}/api/sendToUid`)).status).toBe(405);
  expect((await api(pg, "nope", {})).status).toBe(404);
  expect((await api(pg, "alsoNope", {})).status).toBe(404);
  expect((await api(pg, "sendToUid", "{")).status).toBe(400);
  expect((await api(pg, "sendToUid", "[1]")).status).toBe(400);
  expect((await api(pg, "sendToUid", { data: "x" })).status).toBe(400);
  expect((await api(pg, "sendToUid", { uid: ["ok", "a:b"], data: "x" })).status).toBe(400);
  expect((await post("sendToUid", sendBodyOf("survivor", 2 * MAX_BODY))).status).toBe(413);
  expect((await post("sendToUid", streamed(sendBodyOf("survivor", 2 * MAX_BODY), 300))).status).toBe(413);
  expect(await c.nothingWithin()).toBe(true);

  expect(await api(pg, "sendToUid", { uid: "survivor", data: "still alive" })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
  expect(await c.next()).toBe("still alive");

  const after = await metrics(pg);
  const delta = (s: string) => metricValue(after, s) - metricValue(before, s);
  expect(delta('pushgate_api_requests_total{method="sendToUid",status="405"}')).toBe(1);
  expect(delta('pushgate_api_requests_total{method="unknown",status="404"}')).toBe(2);
  expect(delta('pushgate_api_requests_total{method="sendToUid",status="400"}')).toBe(4);
  expect(delta('pushgate_api_requests_total{method="sendToUid",status="413"}')).toBe(2);
  expect(delta('pushgate_api_requests_total{method="sendToUid",status="200"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_METHOD_NOT_ALLOWED"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_UNKNOWN_METHOD"}')).toBe(2);
  expect(delta('pushgate_errors_total{code="E_BAD_JSON"}')).toBe(2);
  expect(delta('pushgate_errors_total{code="E_BAD_PARAMS"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_INVALID_UID"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_BODY_TOO_LARGE"}')).toBe(2);
  expect(delta('pushgate_errors_total{code="E_INTERNAL"}')).toBe(0);
});
