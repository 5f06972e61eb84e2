// --workers N through the real entry point: a supervisor process and N workers sharing one port
// (reusePort), restart after a crash, SIGTERM stops everything, a killed supervisor strands nobody.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { TestClient, alive, killIfOurs } from "../helpers.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";
import { Logs, until } from "./nodes.ts";

const MAIN = Bun.fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** One /healthz on a fresh connection: the kernel picks the worker per connection. */
async function nodeIdAt(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "close" } });
    return ((await res.json()) as { nodeId: string }).nodeId;
  } catch {
    return null; // e.g. a connection queued on a worker that was just killed
  }
}

/** Distinct nodeIds seen over up to `tries` fresh connections (stops early once `enough`). */
async function nodeIds(port: number, enough: (ids: Set<string>) => boolean, tries = 200): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let i = 0; i < tries && !enough(ids); i++) {
    const id = await nodeIdAt(port);
    if (id) ids.add(id);
  }
  return ids;
}

const started: ReturnType<typeof Bun.spawn>[] = [];
const workerPids = new Set<number>();

function supervise(args: string[]) {
  const p = Bun.spawn(["bun", MAIN, ...args], { env: { ...process.env }, stdout: "pipe", stderr: "pipe" });
  started.push(p);
  return p;
}

afterEach(() => {
  // Only what this file started: the supervisors, and the worker pids they logged.
  for (const p of started.splice(0)) p.kill("SIGKILL");
  // A logged worker PID is signalled only while it still runs MAIN (it may have been reused).
  for (const pid of workerPids) killIfOurs(pid, MAIN);
  workerPids.clear();
});

describeRedis("--workers", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const args = () => ["--workers", "3", "--port", "0", "--host", "127.0.0.1", "--redis", redis.url, "--drain-timeout", "1s"];

  test("3 workers share one port, a killed worker is restarted, SIGTERM stops them all", async () => {
    const sup = supervise(args());
    const logs = new Logs(sup.stdout);
    const hello = await logs.nth("supervisor_started", 1);
    expect(hello).toMatchObject({ level: "info", workers: 3 });
    const port = hello.port as number;
    expect(port).toBeGreaterThan(0);
    const pids = hello.pids as number[];
    expect(pids).toHaveLength(3);
    for (const pid of pids) workerPids.add(pid);

    await logs.nth("listening", 3);
    expect(logs.of("listening").map((l) => l.port)).toEqual([port, port, port]);
    const before = await nodeIds(port, (ids) => ids.size === 3);
    expect(before.size).toBe(3);

    using first = await TestClient.login({ port }, "1");
    expect(first.ws.readyState).toBe(WebSocket.OPEN);

    process.kill(pids[0]!, "SIGKILL");
    expect(await logs.nth("worker_exited", 1)).toMatchObject({ pid: pids[0], signal: "SIGKILL", code: null });
    const restarted = await logs.nth("worker_restarted", 1);
    expect(restarted).toMatchObject({ attempt: 1 });
    expect(pids).not.toContain(restarted.pid);
    workerPids.add(restarted.pid);
    await logs.nth("listening", 4);
    const after = await until(async () => {
      const ids = await nodeIds(port, (s) => s.size === 3, 60);
      return ids.size === 3 && [...ids].some((id) => !before.has(id)) ? ids : undefined;
    }, "a new nodeId among 3", 10_000);
    expect([...after].filter((id) => !before.has(id))).toHaveLength(1);
    // (`first` may have been on the killed worker; this one is on a live one.)
    using client = await TestClient.login({ port }, "2");

    const t0 = performance.now();
    sup.kill("SIGTERM");
    expect(await sup.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000 + 2000 + 1000);
    for (const pid of [...pids, restarted.pid]) expect(alive(pid)).toBe(false);
    expect(logs.of("worker_exited")).toHaveLength(4);
    expect(logs.of("shutdown_done")).toHaveLength(3);
    expect(await client.closed).toMatchObject({ code: 1001 });
  }, 30_000);

  test("workers drain and exit when the supervisor is SIGKILLed", async () => {
    const sup = supervise(args());
    const logs = new Logs(sup.stdout);
    const pids = (await logs.nth("supervisor_started", 1)).pids as number[];
    for (const pid of pids) workerPids.add(pid);
    await logs.nth("listening", 3);
    sup.kill("SIGKILL");
    await sup.exited;
    await logs.nth("supervisor_gone", 3, 5000);
    await logs.nth("shutdown_done", 3, 5000);
    await until(() => (pids.some(alive) ? undefined : true), "every worker to exit", 5000);
  }, 30_000);

  test("a worker that cannot start is retried with a growing delay", async () => {
    // The port is held without SO_REUSEPORT, so every worker fails at start (exit 1).
    const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const sup = supervise(["--workers", "2", "--port", String(holder.port), "--host", "127.0.0.1", "--redis", redis.url]);
      const logs = new Logs(sup.stdout);
      await until(() => logs.of("worker_restarted").find((l) => l.index === 0 && l.attempt === 3), "attempt 3", 10_000);
      const at = (n: number) => Date.parse(logs.of("worker_restarted").find((l) => l.index === 0 && l.attempt === n)!.ts);
      expect(at(2) - at(1)).toBeGreaterThanOrEqual(200);
      expect(at(3) - at(2)).toBeGreaterThanOrEqual(400);
      expect(logs.of("worker_exited").every((l) => l.code === 1)).toBe(true);
      sup.kill("SIGTERM");
      expect(await sup.exited).toBe(0);
    } finally {
      holder.stop(true);
    }
  }, 30_000);
});

test("--workers 2 without --redis exits 2 with the conflict message", async () => {
  const p = supervise(["--workers", "2", "--port", "0"]);
  expect(await p.exited).toBe(2);
  expect(await new Response(p.stderr).text()).toBe(
    "pushgate: conflicting options: --workers above 1 needs --redis (PUSHGATE_REDIS_URL): workers are separate processes and only meet through Redis\n",
  );
});
