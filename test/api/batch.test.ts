// POST /api/batch: calls answered in order, failures isolated, limits.
import { afterAll, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";
import { UNKNOWN_ID } from "./fixtures.ts";

const MAX_BATCH = 6;
const pg = startTestServer({ apiMaxBatch: MAX_BATCH });
afterAll(() => pg.shutdown());


test("several calls are answered in order", async () => {
  using a = await TestClient.login(pg, "b1");
  const r = await api(pg, "batch", {
    calls: [
      { method: "isUidOnline", params: { uid: "b1" } },
      { method: "sendToUid", params: { uid: "b1", data: "first" } },
      { method: "joinGroup", params: { uid: "b1", group: "bg1" } },
      { method: "getClientCountByGroup", params: { group: "bg1" } },
      { method: "sendToGroup", params: { group: "bg1", data: { second: true } } },
    ],
  });
  expect(r).toEqual({
    status: 200,
    body: { result: [{ result: true }, { result: { reached: 1, offline: [] } }, { result: 1 }, { result: 1 }, { result: { reached: 1 } }] },
  });
  expect(await a.next()).toBe("first");
  expect(await a.next()).toBe('{"second":true}');
  expect(await a.nothingWithin()).toBe(true);
});

test("a failing call does not stop the rest", async () => {
  using a = await TestClient.login(pg, "b2");
  const r = await api(pg, "batch", {
    calls: [
      { method: "sendToUid", params: { uid: "b2", data: "one" } },
      { method: "bindUid", params: { clientId: UNKNOWN_ID, uid: "z" } },
      { method: "sendToUid", params: { uid: "bad:uid", data: "x" } },
      { method: "sendToUid", params: { uid: "b2" } },
      { method: "sendToUid", params: { uid: "b2", data: "two" } },
    ],
  });
  expect(r).toEqual({
    status: 200,
    body: {
      result: [
        { result: { reached: 1, offline: [] } },
        { error: { code: "E_NO_SUCH_CLIENT", message: `clientId: no connection ${UNKNOWN_ID} on this server`, field: "clientId" } },
        { error: { code: "E_INVALID_UID", message: "uid: uid must not contain ':'", field: "uid" } },
        { error: { code: "E_BAD_PARAMS", message: "data: is required", field: "data" } },
        { result: { reached: 1, offline: [] } },
      ],
    },
  });
  expect(await a.next()).toBe("one");
  expect(await a.next()).toBe("two");
  expect(await a.nothingWithin()).toBe(true);
});

test("unknown inner methods, including batch itself and Object.prototype names", async () => {
  using a = await TestClient.login(pg, "b3");
  const r = await api(pg, "batch", {
    calls: [
      { method: "nope", params: {} },
      { method: "batch", params: { calls: [{ method: "sendToUid", params: { uid: "b3", data: "nested" } }] } },
      { method: "constructor" },
      { params: {} },
    ],
  });
  expect(r).toEqual({
    status: 200,
    body: {
      result: [
        { error: { code: "E_UNKNOWN_METHOD", message: 'calls[0].method: unknown method "nope"', field: "calls[0].method" } },
        { error: { code: "E_UNKNOWN_METHOD", message: 'calls[1].method: unknown method "batch"', field: "calls[1].method" } },
        { error: { code: "E_UNKNOWN_METHOD", message: 'calls[2].method: unknown method "constructor"', field: "calls[2].method" } },
        { error: { code: "E_UNKNOWN_METHOD", message: "calls[3].method: unknown method undefined", field: "calls[3].method" } },
      ],
    },
  });
  expect(await a.nothingWithin()).toBe(true);
});

test("bad inner calls and params; missing params means {}", async () => {
  const r = await api(pg, "batch", {
    calls: [
      "sendToUid",
      null,
      { method: "getAllUidCount", params: [1] },
      { method: "getAllUidCount", params: null },
      { method: "getAllUidCount" },
      { method: "isUidOnline" },
    ],
  });
  expect(r.status).toBe(200);
  expect(r.body.result).toEqual([
    { error: { code: "E_BAD_PARAMS", message: "calls[0]: must be an object { method, params }", field: "calls[0]" } },
    { error: { code: "E_BAD_PARAMS", message: "calls[1]: must be an object { method, params }", field: "calls[1]" } },
    { error: { code: "E_BAD_PARAMS", message: "calls[2].params: must be a JSON object", field: "calls[2].params" } },
    { error: { code: "E_BAD_PARAMS", message: "calls[3].params: must be a JSON object", field: "calls[3].params" } },
    { result: expect.any(Number) },
    { error: { code: "E_BAD_PARAMS", message: "uid: is required", field: "uid" } },
  ]);
});

test("calls must be an array; an empty batch answers []", async () => {
  for (const body of [{}, { calls: "x" }, { calls: { 0: {} } }]) {
    expect(await api(pg, "batch", body)).toEqual({
      status: 400, body: { error: { code: "E_BAD_PARAMS", message: "calls: must be an array of { method, params }", field: "calls" } },
    });
  }
  expect(await api(pg, "batch", { calls: [] })).toEqual({ status: 200, body: { result: [] } });
});

test("more than apiMaxBatch calls → 400 E_BATCH_TOO_LARGE and none run", async () => {
  using a = await TestClient.login(pg, "b4");
  const call = { method: "sendToUid", params: { uid: "b4", data: "n" } };
  const r = await api(pg, "batch", { calls: Array.from({ length: MAX_BATCH + 1 }, () => call) });
  expect(r).toEqual({
    status: 400,
    body: { error: { code: "E_BATCH_TOO_LARGE", message: `calls: ${MAX_BATCH + 1} calls, over the limit of ${MAX_BATCH} (--api-max-batch)`, field: "calls" } },
  });
  expect(await a.nothingWithin()).toBe(true);
  const full = await api(pg, "batch", { calls: Array.from({ length: MAX_BATCH }, () => call) });
  expect(full.status).toBe(200);
  expect(full.body.result).toEqual(Array.from({ length: MAX_BATCH }, () => ({ result: { reached: 1, offline: [] } })));
  for (let i = 0; i < MAX_BATCH; i++) expect(await a.next()).toBe("n");
  expect(await a.nothingWithin()).toBe(true);
});

test("metrics: one batch request, inner errors counted by code", async () => {
  const before = await metrics(pg);
  const r = await api(pg, "batch", {
    calls: [
      { method: "nope" },
      { method: "getSession", params: { clientId: UNKNOWN_ID } },
      { method: "getSession", params: { clientId: UNKNOWN_ID } },
      { method: "getAllClientCount" },
    ],
  });
  expect(r.status).toBe(200);
  const after = await metrics(pg);
  const delta = (s: string) => metricValue(after, s) - metricValue(before, s);
  expect(delta('pushgate_api_requests_total{method="batch",status="200"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_UNKNOWN_METHOD"}')).toBe(1);
  expect(delta('pushgate_errors_total{code="E_NO_SUCH_CLIENT"}')).toBe(2);
  expect(delta('pushgate_api_requests_total{method="getSession",status="200"}')).toBe(0);
});

test("deliveries keep call order across publishes and direct sends, up to a closeClient", async () => {
  using a = await TestClient.login(pg, "b5");
  const [id] = (await api(pg, "getClientIdByUid", { uid: "b5" })).body.result;
  await api(pg, "joinGroup", { clientId: id, group: "bg5" });
  const r = await api(pg, "batch", {
    calls: [
      { method: "sendToUid", params: { uid: "b5", data: "1" } },
      { method: "sendToClient", params: { clientId: id, data: "2" } },
      { method: "sendToGroup", params: { group: "bg5", data: "3" } },
      { method: "closeClient", params: { clientId: id, message: "4", reason: "done" } },
      { method: "isOnline", params: { clientId: id } },
      { method: "sendToClient", params: { clientId: id, data: "5" } },
    ],
  });
  expect(r.status).toBe(200);
  expect(r.body.result).toEqual([
    { result: { reached: 1, offline: [] } }, { result: { reached: 1, offline: [] } }, { result: { reached: 1 } },
    { result: true }, { result: false }, { result: { reached: 0, offline: [id] } },
  ]);
  expect(await a.closed).toEqual({ code: 1000, reason: "done" });
  expect(a.received).toEqual(["login success, your uid is b5", "1", "2", "3", "4"]);
});

