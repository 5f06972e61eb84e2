// idempotencyKey on the sendTo* API methods, end to end: a retried request is answered with the
// first result and not delivered again; the key is bound to its method; the window and the key
// limit make the server forget.
import { describe, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";

const REPLAYS = "pushgate_idempotent_replays_total";

async function replays(pg: { url: string }): Promise<number> {
  return metricValue(await metrics(pg), REPLAYS);
}

/** Every message `c` receives within the quiet window, in order. */
async function drain(c: TestClient, quietMs = 200): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    try {
      out.push(await c.next(quietMs));
    } catch {
      return out;
    }
  }
}

describe("replay", () => {
  test("sendToUid twice with one key: delivered once, the same answer (offline included), one replay counted", async () => {
    await using pg = startTestServer();
    using alice = await TestClient.login(pg, "alice");
    const before = await replays(pg);
    const params = { uid: ["alice", "ghost"], data: { n: 1 }, idempotencyKey: "order-1" };

    const first = await api(pg, "sendToUid", params);
    expect(first).toEqual({ status: 200, body: { result: { reached: 1, offline: ["ghost"] } } });
    const second = await api(pg, "sendToUid", params);
    expect(second).toEqual(first);

    expect(await drain(alice)).toEqual(['{"n":1}']);
    expect(await replays(pg)).toBe(before + 1);
  });

  test("the replayed answer is the first one even when the targets changed since", async () => {
    await using pg = startTestServer();
    const bob = await TestClient.login(pg, "bob");
    const first = await api(pg, "sendToUid", { uid: "bob", data: "once", idempotencyKey: "k-changed" });
    expect(first.body).toEqual({ result: { reached: 1, offline: [] } });
    expect(await bob.next()).toBe("once");
    bob.close();
    await bob.closed;
    const again = await api(pg, "sendToUid", { uid: "bob", data: "once", idempotencyKey: "k-changed" });
    expect(again).toEqual(first);
    // Without the key the same call now finds bob offline.
    expect((await api(pg, "sendToUid", { uid: "bob", data: "x" })).body).toEqual({ result: { reached: 0, offline: ["bob"] } });
  });

  test("every send method replays: sendToClient, sendToGroup, sendToAll", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "carol");
    const id = (await api(pg, "getClientIdByUid", { uid: "carol" })).body.result[0] as string;
    expect((await api(pg, "joinGroup", { uid: "carol", group: "room" })).status).toBe(200);
    const before = await replays(pg);
    const calls: Array<[string, Record<string, unknown>, unknown]> = [
      ["sendToClient", { clientId: id, data: "direct" }, { reached: 1, offline: [] }],
      ["sendToGroup", { group: "room", data: "group" }, { reached: 1 }],
      ["sendToAll", { data: "everyone" }, { reached: 1 }],
    ];
    for (const [method, params, result] of calls) {
      const key = `key-${method}`;
      expect(await api(pg, method, { ...params, idempotencyKey: key })).toEqual({ status: 200, body: { result } });
      expect(await api(pg, method, { ...params, idempotencyKey: key })).toEqual({ status: 200, body: { result } });
    }
    expect(await drain(c)).toEqual(["direct", "group", "everyone"]);
    expect(await replays(pg)).toBe(before + 3);
  });

  test("different keys deliver twice", async () => {
    await using pg = startTestServer();
    using dave = await TestClient.login(pg, "dave");
    const before = await replays(pg);
    expect((await api(pg, "sendToUid", { uid: "dave", data: "m", idempotencyKey: "a" })).body.result.reached).toBe(1);
    expect((await api(pg, "sendToUid", { uid: "dave", data: "m", idempotencyKey: "b" })).body.result.reached).toBe(1);
    expect(await drain(dave)).toEqual(["m", "m"]);
    expect(await replays(pg)).toBe(before);
  });

  test("without a key every call delivers", async () => {
    await using pg = startTestServer();
    using erin = await TestClient.login(pg, "erin");
    await api(pg, "sendToUid", { uid: "erin", data: "m" });
    await api(pg, "sendToUid", { uid: "erin", data: "m" });
    expect(await drain(erin)).toEqual(["m", "m"]);
  });

  test("a failed call is not remembered: a corrected retry with the same key delivers", async () => {
    await using pg = startTestServer();
    using fay = await TestClient.login(pg, "fay");
    const bad = await api(pg, "sendToUid", { uid: "fay", idempotencyKey: "retry-me" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("data");
    expect(await api(pg, "sendToUid", { uid: "fay", data: "ok", idempotencyKey: "retry-me" })).toEqual({
      status: 200, body: { result: { reached: 1, offline: [] } },
    });
    expect(await drain(fay)).toEqual(["ok"]);
  });
});

describe("conflicts and bad keys", () => {
  test("the same key on a different method is 409 E_IDEMPOTENCY_CONFLICT and delivers nothing", async () => {
    await using pg = startTestServer();
    using gus = await TestClient.login(pg, "gus");
    expect((await api(pg, "sendToUid", { uid: "gus", data: "first", idempotencyKey: "shared" })).status).toBe(200);
    expect(await gus.next()).toBe("first");

    const r = await api(pg, "sendToAll", { data: "second", idempotencyKey: "shared" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("E_IDEMPOTENCY_CONFLICT");
    expect(r.body.error.field).toBe("idempotencyKey");
    expect(r.body.error.message).toContain("sendToUid");
    expect(await gus.nothingWithin(200)).toBe(true);

    // The original method still replays.
    expect((await api(pg, "sendToUid", { uid: "gus", data: "first", idempotencyKey: "shared" })).body).toEqual({
      result: { reached: 1, offline: [] },
    });
    expect(await gus.nothingWithin(200)).toBe(true);
  });

  const badKeys: Array<[string, unknown]> = [
    ["empty", ""],
    ["a number", 42],
    ["null", null],
    ["an array", ["k"]],
    ["257 characters", "k".repeat(257)],
  ];
  for (const [name, key] of badKeys) {
    test(`a key that is ${name} is 400 naming idempotencyKey, and nothing is delivered`, async () => {
      await using pg = startTestServer();
      using hal = await TestClient.login(pg, "hal");
      const r = await api(pg, "sendToUid", { uid: "hal", data: "x", idempotencyKey: key });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("E_BAD_PARAMS");
      expect(r.body.error.field).toBe("idempotencyKey");
      expect(r.body.error.message.startsWith("idempotencyKey:")).toBe(true);
      expect(await hal.nothingWithin(200)).toBe(true);
    });
  }

  test("a key of exactly 256 characters is accepted and replays", async () => {
    await using pg = startTestServer();
    using ivy = await TestClient.login(pg, "ivy");
    const params = { uid: "ivy", data: "x", idempotencyKey: "k".repeat(256) };
    expect((await api(pg, "sendToUid", params)).status).toBe(200);
    expect((await api(pg, "sendToUid", params)).status).toBe(200);
    expect(await drain(ivy)).toEqual(["x"]);
  });
});

describe("batch", () => {
  test("a key repeated inside one batch delivers once; a later direct call replays it", async () => {
    await using pg = startTestServer();
    using jo = await TestClient.login(pg, "jo");
    const before = await replays(pg);
    const call = { method: "sendToUid", params: { uid: ["jo", "nobody"], data: "b", idempotencyKey: "batch-k" } };
    const r = await api(pg, "batch", {
      calls: [call, call, { method: "sendToAll", params: { data: "c", idempotencyKey: "batch-k" } }],
    });
    expect(r.status).toBe(200);
    const result = { reached: 1, offline: ["nobody"] };
    expect(r.body.result[0]).toEqual({ result });
    expect(r.body.result[1]).toEqual({ result });
    expect(r.body.result[2].error.code).toBe("E_IDEMPOTENCY_CONFLICT");
    expect(await api(pg, "sendToUid", call.params)).toEqual({ status: 200, body: { result } });
    expect(await drain(jo)).toEqual(["b"]);
    expect(await replays(pg)).toBe(before + 2);
  });

  test("a bad key fails only its own batch entry", async () => {
    await using pg = startTestServer();
    using kim = await TestClient.login(pg, "kim");
    const r = await api(pg, "batch", {
      calls: [
        { method: "sendToUid", params: { uid: "kim", data: "bad", idempotencyKey: "" } },
        { method: "sendToUid", params: { uid: "kim", data: "good", idempotencyKey: "fine" } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.result[0].error).toMatchObject({ code: "E_BAD_PARAMS", field: "idempotencyKey" });
    expect(r.body.result[1]).toEqual({ result: { reached: 1, offline: [] } });
    expect(await drain(kim)).toEqual(["good"]);
  });
});

describe("forgetting", () => {
  test("after the window (idempotencyWindowMs: 1000) the same key delivers again", async () => {
    await using pg = startTestServer({ idempotencyWindowMs: 1000 });
    using lee = await TestClient.login(pg, "lee");
    const params = { uid: "lee", data: "w", idempotencyKey: "windowed" };
    expect((await api(pg, "sendToUid", params)).body.result.reached).toBe(1);
    expect((await api(pg, "sendToUid", params)).body.result.reached).toBe(1); // replay
    expect(await drain(lee)).toEqual(["w"]);
    await Bun.sleep(1300);
    const before = await replays(pg);
    expect((await api(pg, "sendToUid", params)).body.result.reached).toBe(1);
    expect(await lee.next()).toBe("w");
    expect(await replays(pg)).toBe(before);
    // ...and is remembered again from then on.
    expect((await api(pg, "sendToUid", params)).status).toBe(200);
    expect(await lee.nothingWithin(200)).toBe(true);
  }, 10_000);

  test("idempotencyMaxKeys: 2 forgets the oldest key first", async () => {
    await using pg = startTestServer({ idempotencyMaxKeys: 2 });
    using max = await TestClient.login(pg, "max");
    for (const key of ["k1", "k2", "k3"]) {
      expect((await api(pg, "sendToUid", { uid: "max", data: key, idempotencyKey: key })).status).toBe(200);
    }
    expect(await drain(max)).toEqual(["k1", "k2", "k3"]);

    // k2 and k3 are remembered; k1, the oldest, was forgotten.
    await api(pg, "sendToUid", { uid: "max", data: "k3", idempotencyKey: "k3" });
    await api(pg, "sendToUid", { uid: "max", data: "k2", idempotencyKey: "k2" });
    expect(await max.nothingWithin(200)).toBe(true);
    await api(pg, "sendToUid", { uid: "max", data: "k1", idempotencyKey: "k1" });
    expect(await drain(max)).toEqual(["k1"]);
  });
});
