// `bun run build`: the single binary, built once into this file's temp dir and driven as a user
// would: the seed protocol and a push over the HTTP API, /client.js and /client.d.ts (embedded at
// build time), --help naming the binary, and --workers 2. Only PIDs started here are killed.
import type { Subprocess } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildClientBundle } from "../../src/api/client-bundle.ts";
import { DECLARATIONS_FILE } from "../../src/build/declarations.ts";
import { Logs, until } from "../cluster/nodes.ts";
import { TestClient, alive, api, cleanEnv, killIfOurs } from "../helpers.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";

const ROOT = Bun.fileURLToPath(new URL("../../", import.meta.url));
const NAME = "pushgate-under-test"; // --help must say this, not "bun run start"
const dir = mkdtempSync(join(tmpdir(), "pushgate-binary-"));
const BIN = join(dir, NAME);
const started: Subprocess[] = [];
const workerPids = new Set<number>();

/** Only flags configure the binary: the caller's PUSHGATE_* variables are dropped. */
function run(args: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn([BIN, ...args], { env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  started.push(p);
  return p;
}

beforeAll(async () => {
  const build = Bun.spawn(["bun", "run", "build", "--outfile", BIN], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([build.exited, new Response(build.stdout).text(), new Response(build.stderr).text()]);
  if (code !== 0) throw new Error(`bun run build failed (${code}): ${out}${err}`);
  expect(statSync(BIN).size).toBeGreaterThan(1 << 20);
}, 120_000);

afterAll(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const pid of workerPids) killIfOurs(pid, BIN); // a logged PID may belong to another process by now
  await Promise.race([Promise.all(started.map((p) => p.exited)), Bun.sleep(5000)]);
  rmSync(dir, { recursive: true, force: true }); // ~100 MiB
});

test("--help names the binary", async () => {
  const p = run(["--help"]);
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  expect(out).toContain(`Usage: ${NAME} [options]`);
  expect(out).not.toContain("bun run start");
  expect(out).toContain("--workers");
});

describe("one process", () => {
  let proc: Subprocess<"ignore", "pipe", "pipe">;
  let port = 0;
  beforeAll(async () => {
    proc = run(["--port", "0", "--host", "127.0.0.1", "--log-level", "info", "--api-key", "binary-test-key"]);
    port = (await new Logs(proc.stdout).nth("listening", 1, 15_000)).port as number;
  });

  test("serves the seed protocol and a push from the HTTP API", async () => {
    using a = await TestClient.login({ port }, "u1");
    const url = `http://127.0.0.1:${port}`;
    const res = await fetch(`${url}/api/sendToUid`, {
      method: "POST", headers: { authorization: "Bearer binary-test-key" }, body: JSON.stringify({ uid: "u1", data: "from the binary" }),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await a.next()).toBe("from the binary");
  });

  test("serves /client.js and /client.d.ts embedded at build time", async () => {
    const js = await fetch(`http://127.0.0.1:${port}/client.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    const built = await buildClientBundle();
    expect(built.ok).toBe(true);
    expect(await js.text()).toBe(built.ok ? built.text : "");

    const dts = await fetch(`http://127.0.0.1:${port}/client.d.ts`);
    expect(dts.status).toBe(200);
    expect(dts.headers.get("content-type")).toStartWith("application/typescript");
    expect(await dts.text()).toBe(readFileSync(DECLARATIONS_FILE, "utf8"));
  });

  test("serves the /admin page with its script and stylesheet embedded at build time", async () => {
    const base = `http://127.0.0.1:${port}/admin`;
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("app.js");
    for (const [file, type] of [["app.js", "text/javascript"], ["app.css", "text/css"]] as const) {
      const r = await fetch(`${base}/${file}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toStartWith(type);
      expect((await r.text()).length).toBeGreaterThan(500);
    }
    const stats = await fetch(`${base}/api/stats`, { headers: { authorization: "Bearer binary-test-key" } });
    expect(stats.status).toBe(200);
  });

  test("drains and exits 0 on SIGTERM", async () => {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

describeRedis("--workers 2", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  test("both workers serve; SIGTERM stops the supervisor and both", async () => {
    const sup = run(["--workers", "2", "--port", "0", "--host", "127.0.0.1", "--redis", redis.url, "--drain-timeout", "1s", "--log-level", "info"]);
    const logs = new Logs(sup.stdout);
    const hello = await logs.nth("supervisor_started", 1, 15_000);
    const pids = hello.pids as number[];
    for (const pid of pids) workerPids.add(pid);
    expect(pids).toHaveLength(2);
    const port = hello.port as number;
    await logs.nth("listening", 2, 15_000); // workers inherit stdout: one line each

    // The kernel picks the worker per connection: fresh connections reach both nodeIds.
    const ids = new Set<string>();
    await until(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "close" } });
      ids.add(((await res.json()) as { nodeId: string }).nodeId);
      return ids.size === 2;
    }, "both workers answering", 10_000, 1);

    // A push through any worker reaches a seed client on either (they meet through Redis).
    using a = await TestClient.login({ port }, "w1");
    await until(async () => {
      const r = await api({ url: `http://127.0.0.1:${port}` }, "isUidOnline", { uid: "w1" });
      return r.body?.result === true;
    }, "w1 online cluster-wide", 10_000);
    expect((await api({ url: `http://127.0.0.1:${port}` }, "sendToUid", { uid: "w1", data: "via a worker" })).status).toBe(200);
    expect(await a.next(5000)).toBe("via a worker");
    expect(logs.of("worker_exited")).toEqual([]); // no crash loop

    sup.kill("SIGTERM");
    expect(await sup.exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const pid of pids) workerPids.delete(pid); // gone: never signalled again
  }, 60_000);
});
