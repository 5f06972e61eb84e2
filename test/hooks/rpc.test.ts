// pushgate.v1 `rpc` frames answered by a real backend (Bun.serve): the backend's result comes
// back as the reply for that id; a refusal, a 500, a slow or absent backend, and a full queue
// each answer a stable error for that id — never silence — and other clients are unaffected.
import { afterEach, expect, test } from "bun:test";
import { TestClient, metricValue, metrics, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { Backend } from "./backend.ts";
import { PushgateClient, PushgateError } from "../../src/client/index.ts";

const started: Array<{ shutdown(): Promise<void> } | Disposable> = [];
afterEach(async () => {
  for (const s of started.splice(0)) "shutdown" in s ? await s.shutdown() : s[Symbol.dispose]();
});

async function v1Client(pg: { port: number }, uid: string): Promise<JsonClient> {
  const j = await JsonClient.connect(pg);
  j.send({ type: "auth", uid });
  await j.next("welcome");
  return j;
}

test("an rpc is answered by the backend: result, refusal, 500, timeout — each as the reply for its id", async () => {
  const b = new Backend(async (q) => {
    if (q.kind !== "rpc") return { status: 404, body: {} };
    switch (q.method) {
      case "echo": return { body: { result: { you: q.uid, said: q.data } } };
      case "refuse": return { status: 422, body: { error: { code: "NOT_ALLOWED", message: "no" } } };
      case "crash": return { status: 500, body: { error: "boom" } };
      case "slow": return { body: { result: 1 }, delayMs: 800 };
      default: return { status: 404, body: { error: { code: "NO_METHOD" } } };
    }
  });
  started.push(b);
  const pg = startTestServer({ hookUrl: b.url, hookTimeoutMs: 300 });
  started.push(pg);
  using j = await v1Client(pg, "ann");
  j.send({ type: "rpc", id: 1, method: "echo", data: { n: 7 } });
  expect(await j.next("reply")).toEqual({ type: "reply", id: 1, result: { you: "ann", said: { n: 7 } } });
  expect(b.asked[0]).toMatchObject({ kind: "rpc", uid: "ann", method: "echo", data: { n: 7 } });
  expect(typeof b.asked[0]!.clientId).toBe("string");
  j.send({ type: "rpc", id: "r2", method: "refuse" });
  expect(await j.next("reply")).toEqual({ type: "reply", id: "r2", error: { code: "E_BACKEND_ERROR", message: "the backend refused the call (422)", detail: { code: "NOT_ALLOWED", message: "no" } } });
  j.send({ type: "rpc", id: 3, method: "crash" });
  expect(await j.next("reply")).toMatchObject({ id: 3, error: { code: "E_BACKEND_UNAVAILABLE" } });
  j.send({ type: "rpc", id: 4, method: "slow" });
  expect(await j.next("reply")).toMatchObject({ id: 4, error: { code: "E_BACKEND_TIMEOUT" } });
  // A bad frame is refused before the backend is asked.
  j.send({ type: "rpc", id: 5 });
  expect(await j.next("error")).toMatchObject({ code: "E_BAD_FRAME", id: 5 });
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="rpc",outcome="ok"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="rpc",outcome="refused"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="rpc",outcome="error"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="rpc",outcome="timeout"}')).toBe(1);
});

test("no backend configured: rpc answers E_FORBIDDEN; backend down: E_BACKEND_UNAVAILABLE", async () => {
  const plain = startTestServer();
  started.push(plain);
  using a = await v1Client(plain, "a");
  a.send({ type: "rpc", id: 1, method: "x" });
  expect(await a.next("reply")).toMatchObject({ id: 1, error: { code: "E_FORBIDDEN" } });
  const down = startTestServer({ hookUrl: "http://127.0.0.1:9/hook" });
  started.push(down);
  using b = await v1Client(down, "b");
  b.send({ type: "rpc", id: 2, method: "x" });
  expect(await b.next("reply")).toMatchObject({ id: 2, error: { code: "E_BACKEND_UNAVAILABLE" } });
});

test("past --hook-concurrency + --hook-queue an rpc answers E_BACKEND_UNAVAILABLE at once; the rest are answered", async () => {
  const release = Promise.withResolvers<void>();
  const b = new Backend(async () => {
    await release.promise;
    return { body: { result: "done" } };
  });
  started.push(b);
  const pg = startTestServer({ hookUrl: b.url, hookTimeoutMs: 5000, hookConcurrency: 1, hookQueue: 1, rateLimit: 0 });
  started.push(pg);
  using j = await v1Client(pg, "q");
  for (let i = 1; i <= 3; i++) j.send({ type: "rpc", id: i, method: "wait" });
  expect(await j.next("reply")).toMatchObject({ id: 3, error: { code: "E_BACKEND_UNAVAILABLE" } });
  release.resolve();
  const rest = [await j.next("reply"), await j.next("reply")].map((r) => r.id).sort();
  expect(rest).toEqual([1, 2]);
  expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="hook_queue"}')).toBe(1);
});

test("--seed-messages backend over HTTP: the frame goes to the backend as a message; its reply comes back; a fault is an error frame", async () => {
  const b = new Backend((q) => (q.kind !== "message" ? { status: 404, body: {} }
    : q.message === "fail" ? { status: 500, body: {} }
    : { body: { reply: `got ${String(q.message)} from ${String(q.uid)}` } }));
  started.push(b);
  const pg = startTestServer({ hookUrl: b.url, seedMessages: "backend" });
  started.push(pg);
  using c = await TestClient.login(pg, "dan");
  c.send("7:hello");
  expect(await c.next()).toBe("got 7:hello from dan");
  c.send("fail");
  expect(JSON.parse(await c.next())).toMatchObject({ type: "error", code: "E_BACKEND_UNAVAILABLE" });
  expect(b.asked.filter((q) => q.kind === "message").map((q) => q.message)).toEqual(["7:hello", "fail"]);
  expect(() => startTestServer({ seedMessages: "backend" })).toThrow("--seed-messages backend needs --hook-url");
});

test("the SDK's client.rpc(method, data): the backend's result; its refusal rejects E_BACKEND_ERROR with the backend's error in detail", async () => {
  const b = new Backend((q) => q.method === "add"
    ? { body: { result: (q.data as number[]).reduce((x, y) => x + y, 0) } }
    : { status: 422, body: { error: { code: "NO_METHOD", message: `no ${String(q.method)}` } } });
  started.push(b);
  const pg = startTestServer({ hookUrl: b.url });
  started.push(pg);
  const c = new PushgateClient({ url: `ws://127.0.0.1:${pg.port}/`, uid: "sdk" });
  try {
    await c.connect();
    expect(await c.rpc<number>("add", [1, 2, 3])).toBe(6);
    const e = await c.rpc("nope").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PushgateError);
    expect((e as PushgateError).code).toBe("E_BACKEND_ERROR");
    expect((e as PushgateError).detail).toEqual({ code: "NO_METHOD", message: "no nope" });
    expect((await c.send("uid:sdk", "self")).delivered).toBe(1); // send() still answers
  } finally {
    c.close();
  }
});
