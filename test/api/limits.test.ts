// Bounded cost of API input (issue 9): --max-json-depth, --api-max-targets and --api-max-list are
// checked before the work they bound; a request never answers 5xx after it had a side effect.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";
import { expectQuiet, idOf } from "./fixtures.ts";

const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
const tooDeep = { code: "E_TOO_DEEP", message: "body nests deeper than 32 levels (--max-json-depth)" };

describe("--max-json-depth on API bodies (default 32)", () => {
  const pg = startTestServer();
  afterAll(() => pg.shutdown());

  test("a 60,000-deep data (as deep as the default body holds) answers 400 E_TOO_DEEP and delivers nothing (100,000 levels were 500 after 1.3 s)", async () => {
    using a = await TestClient.login(pg, "ad1");
    const r = await api(pg, "sendToUid", `{"uid":"ad1","data":${nest(60_000)}}`);
    expect(r).toEqual({ status: 400, body: { error: tooDeep } });
    await expectQuiet(a);
    expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="max_json_depth"}')).toBe(1);
  });

  test("setSession with deep data is refused and the session is unchanged", async () => {
    using _a = await TestClient.login(pg, "ad2");
    const clientId = await idOf(pg, "ad2");
    expect((await api(pg, "setSession", { clientId, session: { v: 1 } })).status).toBe(200);
    const r = await api(pg, "setSession", `{"clientId":"${clientId}","session":{"v":${nest(50_000)}}}`);
    expect(r).toEqual({ status: 400, body: { error: tooDeep } });
    expect((await api(pg, "getSession", { clientId })).body.result).toEqual({ v: 1 });
  });

  test("a batch with one deep call is refused whole, before its first call runs", async () => {
    using a = await TestClient.login(pg, "ad3");
    const r = await api(pg, "batch", `{"calls":[{"method":"sendToUid","params":{"uid":"ad3","data":"first"}},` +
      `{"method":"sendToUid","params":{"uid":"ad3","data":${nest(60_000)}}}]}`);
    expect(r).toEqual({ status: 400, body: { error: tooDeep } });
    await expectQuiet(a);
  });

  test("32 levels in all are accepted", async () => {
    using a = await TestClient.login(pg, "ad4");
    // body 1 + data 31
    const r = await api(pg, "sendToUid", `{"uid":"ad4","data":${nest(31)}}`);
    expect(r.body).toEqual({ result: { reached: 1, offline: [] } });
    expect(await a.next()).toBe(nest(31));
  });
});

describe("a fault inside a call: 5xx only when it had no effect", () => {
  // Raised far past the default, the limit no longer protects JSON.stringify: 200,000 levels
  // parse, then overflow the stack when the data is stringified — a real fault, before any effect.
  const pg = startTestServer({ maxJsonDepth: 1_000_000, apiMaxBody: 4 * 1024 * 1024 });
  afterAll(() => pg.shutdown());
  const deep = nest(200_000);

  test("a single call that faults before acting answers 500 and delivered nothing", async () => {
    using a = await TestClient.login(pg, "af1");
    const r = await api(pg, "sendToUid", `{"uid":"af1","data":${deep}}`);
    expect(r).toEqual({ status: 500, body: { error: { code: "E_INTERNAL", message: "internal error; the call had no effect" } } });
    await expectQuiet(a);
  });

  test("batch: the call that faults gets E_INTERNAL in its place; the others ran once, answer 200", async () => {
    using a = await TestClient.login(pg, "af2");
    const r = await api(pg, "batch", `{"calls":[{"method":"sendToUid","params":{"uid":"af2","data":"first"}},` +
      `{"method":"sendToUid","params":{"uid":"af2","data":${deep}}},{"method":"sendToUid","params":{"uid":"af2","data":"third"}}]}`);
    expect(r).toEqual({
      status: 200,
      body: {
        result: [
          { result: { reached: 1, offline: [] } },
          { error: { code: "E_INTERNAL", message: "internal error; the call had no effect" } },
          { result: { reached: 1, offline: [] } },
        ],
      },
    });
    expect(await a.next()).toBe("first");
    expect(await a.next()).toBe("third");
    await expectQuiet(a);
  });

  test("a call that faults after it delivered answers 202 with outcome unknown; its key keeps it from running twice", async () => {
    using a = await TestClient.login(pg, "af3");
    // Fault injection into this node's own hub (not the runtime): deliver, then throw.
    const hub = pg.hub;
    const real = hub.publish;
    hub.publish = function (...args: Parameters<typeof real>) {
      const n = real.apply(this, args);
      if (args[0] === "uid:af3") throw new Error("injected fault after delivery");
      return n;
    };
    try {
      const unknown = {
        status: 202,
        body: { error: { code: "E_INTERNAL", message: "internal error after the call began to take effect: its outcome is unknown (do not retry it blindly)", outcome: "unknown" } },
      };
      expect(await api(pg, "sendToUid", { uid: "af3", data: "once", idempotencyKey: "k-af3" })).toEqual(unknown);
      expect(await api(pg, "sendToUid", { uid: "af3", data: "once", idempotencyKey: "k-af3" })).toEqual(unknown);
      expect(await a.next()).toBe("once");
      await expectQuiet(a);
      const b = await api(pg, "batch", { calls: [{ method: "sendToUid", params: { uid: "af3", data: "in batch" } }, { method: "isUidOnline", params: { uid: "af3" } }] });
      expect(b).toEqual({ status: 200, body: { result: [{ error: unknown.body.error }, { result: true }] } });
      expect(await a.next()).toBe("in batch");
    } finally {
      hub.publish = real;
    }
  });
});

describe("--api-max-targets", () => {
  const pg = startTestServer({ apiMaxTargets: 5 });
  afterAll(() => pg.shutdown());
  const uids = (n: number, p = "t") => Array.from({ length: n }, (_, i) => `${p}${i}`);

  test("uids, groups, clientIds and exclude entries over the limit answer 400 before anything runs", async () => {
    using a = await TestClient.login(pg, "t0");
    const over = (n: number, field: string) => ({
      status: 400,
      body: { error: { code: "E_TOO_MANY_TARGETS", message: `${field}: ${n} uids, groups and clientIds named, over the limit of 5 (--api-max-targets)`, field } },
    });
    expect(await api(pg, "sendToUid", { uid: uids(6), data: "x" })).toEqual(over(6, "params"));
    // An exclude entry counts once per group it applies to: 2 groups + 2 × 2.
    expect(await api(pg, "sendToGroup", { group: uids(2, "g"), exclude: uids(2, "c"), data: "x" })).toEqual(over(6, "params"));
    expect(await api(pg, "sendToAll", { exclude: Array(6).fill("ffffffff0000000fffff"), data: "x" })).toEqual(over(6, "params"));
    const calls = [0, 1, 2].map(() => ({ method: "sendToUid", params: { uid: ["t0", "nobody"], data: "x" } }));
    expect(await api(pg, "batch", { calls })).toEqual(over(6, "calls"));
    await expectQuiet(a);
    expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="api_max_targets"}')).toBe(4);
  });

  test("a name listed twice is one target, pushed to once", async () => {
    using a = await TestClient.login(pg, "twice");
    expect((await api(pg, "sendToUid", { uid: ["twice", "twice", "twice"], data: "once" })).body.result).toEqual({ reached: 1, offline: [] });
    expect(await a.next()).toBe("once");
    await expectQuiet(a);
  });

  test("exactly the limit runs", async () => {
    using a = await TestClient.login(pg, "t1");
    expect((await api(pg, "sendToUid", { uid: ["t1", ...uids(4, "off")], data: "five" })).body.result).toEqual({ reached: 1, offline: uids(4, "off") });
    expect(await a.next()).toBe("five");
  });
});

describe("--api-max-list", () => {
  const pg = startTestServer({ apiMaxList: 5 });
  afterAll(() => pg.shutdown());

  test("a list that does not fit the request's budget is refused before it is built; a batch shares one budget", async () => {
    const clients = await Promise.all(["l1", "l2", "l3"].map((u) => TestClient.login(pg, u)));
    try {
      await api(pg, "joinGroup", { uid: "l1", group: "lg" });
      await api(pg, "joinGroup", { uid: "l2", group: "lg" });
      expect((await api(pg, "getAllUidList")).body.result.sort()).toEqual(["l1", "l2", "l3"]);
      const r = await api(pg, "batch", {
        calls: [
          { method: "getAllUidList" }, // 3 of 5
          { method: "getAllUidList" }, // 3 more would pass 5: refused, not charged
          { method: "getUidListByGroup", params: { group: "lg" } }, // 2 members: fits exactly
          { method: "getClientIdByUid", params: { uid: "l1" } }, // 1 more: refused
          { method: "getAllUidCount" }, // counts are not lists
        ],
      });
      expect(r.status).toBe(200);
      const [first, second, third, fourth, count] = r.body.result;
      expect(first.result).toHaveLength(3);
      expect(second.error).toEqual({ code: "E_LIST_TOO_LARGE", message: "getAllUidList: 3 entries would pass the limit of 5 list entries per request (--api-max-list); ask for counts instead, or raise the limit" });
      expect(third.result.sort()).toEqual(["l1", "l2"]);
      expect(fourth.error).toEqual({ code: "E_LIST_TOO_LARGE", message: "getClientIdByUid: 1 entries would pass the limit of 5 list entries per request (--api-max-list); ask for counts instead, or raise the limit" });
      expect(count).toEqual({ result: 3 });
      const more = await Promise.all(["l4", "l5", "l6"].map((u) => TestClient.login(pg, u)));
      clients.push(...more);
      expect(await api(pg, "getAllUidList")).toEqual({
        status: 400,
        body: { error: { code: "E_LIST_TOO_LARGE", message: "getAllUidList: 6 entries would pass the limit of 5 list entries per request (--api-max-list); ask for counts instead, or raise the limit" } },
      });
      expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="api_max_list"}')).toBe(3);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe("--api-max-memberships", () => {
  const pg = startTestServer({ apiMaxMemberships: 4, maxConnectionsPerUid: 10 });
  afterAll(() => pg.shutdown());

  test("joinGroup by uid counts the uid's connections, ungroup the group's members; checked before anything runs", async () => {
    const three = await Promise.all([1, 2, 3].map(() => TestClient.login(pg, "m3")));
    const two = await Promise.all([1, 2].map(() => TestClient.login(pg, "m2")));
    try {
      const over = (n: number, field: string) => ({
        status: 400,
        body: { error: { code: "E_TOO_MANY_TARGETS", message: `${field}: would change ${n} group memberships, over the limit of 4 (--api-max-memberships)`, field } },
      });
      expect((await api(pg, "joinGroup", { uid: "m3", group: "mg" })).body).toEqual({ result: 3 });
      const calls = [{ method: "joinGroup", params: { uid: "m2", group: "mg" } }, { method: "ungroup", params: { group: "mg" } }];
      expect(await api(pg, "batch", { calls })).toEqual(over(5, "calls")); // 2 + the 3 members now
      expect((await api(pg, "getClientCountByGroup", { group: "mg" })).body.result).toBe(3);
      expect((await api(pg, "joinGroup", { uid: "m2", group: "mg" })).body).toEqual({ result: 2 });
      expect(await api(pg, "ungroup", { group: "mg" })).toEqual(over(5, "params"));
      expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="api_max_memberships"}')).toBe(2);
      expect((await api(pg, "leaveGroup", { uid: "m2", group: "mg" })).body).toEqual({ result: 2 });
      expect((await api(pg, "ungroup", { group: "mg" })).body).toEqual({ result: 3 });
    } finally {
      for (const c of [...three, ...two]) c.close();
    }
  });
});

describe("--api-max-fanout", () => {
  const pg = startTestServer({ apiMaxFanout: 3 });
  afterAll(() => pg.shutdown());

  test("a batch's pushes stop once they reached the limit together; the first push always runs", async () => {
    const clients = await Promise.all(["f1", "f2", "f3", "f4"].map((u) => TestClient.login(pg, u)));
    try {
      // One broadcast past the limit is one request's job: it runs.
      expect((await api(pg, "sendToAll", { data: "everyone" })).body).toEqual({ result: { reached: 4 } });
      for (const c of clients) expect(await c.next()).toBe("everyone");
      const r = await api(pg, "batch", {
        calls: [
          { method: "sendToUid", params: { uid: ["f1", "f2"], data: "a" } }, // 2
          { method: "sendToUid", params: { uid: "f3", data: "b" } }, // 3: reaches the limit
          { method: "sendToUid", params: { uid: "f4", data: "c" } }, // refused, not run
          { method: "getAllClientCount" }, // not a push: runs
        ],
      });
      expect(r).toEqual({
        status: 200,
        body: {
          result: [
            { result: { reached: 2, offline: [] } },
            { result: { reached: 1, offline: [] } },
            { error: { code: "E_FANOUT_TOO_LARGE", message: "sendToUid: the request's earlier pushes reached 3 connections, the limit of 3 per request (--api-max-fanout); send the rest in another request" } },
            { result: 4 },
          ],
        },
      });
      expect(await clients[0]!.next()).toBe("a");
      expect(await clients[2]!.next()).toBe("b");
      await expectQuiet(clients[3]!);
      expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="api_max_fanout"}')).toBe(1);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
