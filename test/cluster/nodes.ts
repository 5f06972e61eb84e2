// Cluster test fixture: pushgate nodes as real subprocesses of src/main.ts, all meeting through
// one RedisServer owned by the test file. Every wait is bounded; every process started here is
// remembered by PID and killed by `killStartedNodes()` (afterAll), and by an exit hook as a last
// resort — never anything this file did not start. `clusterFixture` wires that up for a describe().
import type { Subprocess } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { type ApiAnswer, TestClient, cleanEnv, metricValue } from "../helpers.ts";
import { JsonClient, type JsonFrame } from "../json-client.ts";
import { RedisServer } from "../redis-server.ts";
import type { Config } from "../../src/config/types.ts";
import { type Pushgate, type StartOptions, createPushgate } from "../../src/server.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

export type Line = Record<string, any>;

const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

/** SIGKILLs (by PID) every node this process started that is still running; waits for them. */
export async function killStartedNodes(): Promise<void> {
  const all = [...started];
  started.clear();
  for (const p of all) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    try {
      p.kill("SIGCONT"); // a SIGSTOPped node still dies on SIGKILL; this just keeps `exited` prompt
    } catch {}
    p.kill("SIGKILL");
  }
  await Promise.race([Promise.all(all.map((p) => p.exited)), Bun.sleep(5000)]);
}

/** Polls until `check` returns something other than undefined/false; rejects after `ms`. */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5000, every = 25,
): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const hit = await check();
      if (hit !== undefined && hit !== false) return hit;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await Bun.sleep(every);
  }
}

/** A child's stdout as JSON lines, read in the background. */
export class Logs {
  readonly lines: Line[] = [];
  ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    void this.pump(stream);
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of stream) {
        buf += dec.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            this.lines.push(JSON.parse(text) as Line);
          } catch {
            this.lines.push({ event: "(not json)", text });
          }
        }
      }
    } catch {}
    this.ended = true;
  }

  of(event: string): Line[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Resolves with the n-th (1-based) line of `event`. */
  nth(event: string, n = 1, ms = 10_000, every = 25): Promise<Line> {
    return until(() => {
      const hit = this.of(event)[n - 1];
      if (hit) return hit;
      if (this.ended) throw new Error(`stdout ended before ${n} × ${event}`);
      return undefined;
    }, `${n} × ${event}`, ms, every);
  }
}

export const NODE_ARGS = ["--port", "0", "--host", "127.0.0.1", "--presence-ttl", "2s", "--log-level", "info"];

/** One pushgate node: `bun src/main.ts --redis <url> …` with port and nodeId from its `listening` line. */
export class Node {
  readonly logs: Logs;
  stderr = "";
  port = 0;
  nodeId = "";

  private constructor(readonly proc: Subprocess<"ignore", "pipe", "pipe">, readonly name: string) {
    this.logs = new Logs(proc.stdout);
    void (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of proc.stderr) this.stderr += dec.decode(chunk, { stream: true });
      } catch {}
    })();
  }

  static async start(name: string, redisUrl: string, extra: readonly string[] = []): Promise<Node> {
    // Only flags configure the node: PUSHGATE_* variables of the caller's environment are dropped.
    const proc = Bun.spawn(["bun", MAIN, ...NODE_ARGS, "--redis", redisUrl, ...extra], {
      env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe",
    });
    started.add(proc);
    const node = new Node(proc, name);
    let hello: Line;
    try {
      hello = await node.logs.nth("listening", 1, 15_000);
    } catch (e) {
      throw new Error(`node ${name} did not start: ${(e as Error).message}; stderr: ${node.stderr}`);
    }
    node.port = hello.port as number;
    node.nodeId = hello.nodeId as string;
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** POST /api/<method>, bounded by `ms` (a frozen node must not hang a test). */
  async api(method: string, params: unknown = {}, ms = 10_000): Promise<ApiAnswer> {
    const res = await fetch(`${this.url}/api/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(ms),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body };
  }

  /** The `result` of a call that must answer 200. */
  async result(method: string, params: unknown = {}, ms = 10_000): Promise<any> {
    const a = await this.api(method, params, ms);
    if (a.status !== 200 || typeof a.body !== "object" || a.body === null || !("result" in a.body)) {
      throw new Error(`${this.name} ${method}(${JSON.stringify(params)}) answered ${a.status} ${JSON.stringify(a.body)}`);
    }
    return a.body.result;
  }

  async metrics(ms = 5000): Promise<string> {
    return (await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(ms) })).text();
  }

  async metric(series: string): Promise<number> {
    return metricValue(await this.metrics(), series);
  }

  /** By PID; resolves once it exited. */
  async kill(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    this.proc.kill(signal);
    await Promise.race([this.proc.exited, Bun.sleep(5000)]);
    started.delete(this.proc);
  }

  /** SIGSTOP / SIGCONT by PID (a node that hangs without closing its sockets). */
  freeze(): void {
    process.kill(this.proc.pid, "SIGSTOP");
  }

  thaw(): void {
    process.kill(this.proc.pid, "SIGCONT");
  }
}

/** Starts `names.length` nodes in parallel on the same Redis. */
export async function startNodes(redis: RedisServer, names: readonly string[], extra: readonly string[] = []): Promise<Node[]> {
  const nodes = await Promise.all(names.map((n) => Node.start(n, redis.url, extra)));
  // Every node heartbeats at start; wait until each one sees the others (queries scatter to them).
  await until(async () => {
    const live = (await redis.command("ZRANGE", ["pushgate:nodes", "0", "-1"])) as string[];
    return nodes.every((n) => live.includes(n.nodeId));
  }, "every node in pushgate:nodes", 5000);
  return nodes;
}

/** Subscribers Redis counts on a channel (one per node subscribed to it). */
export async function numsub(redis: RedisServer, channel: string): Promise<number> {
  const r = (await redis.command("PUBSUB", ["NUMSUB", channel])) as [string, number | string];
  return Number(r[1]);
}

export const uidChannel = (uid: string) => `pushgate:c:uid:${uid}`;
export const groupChannel = (group: string) => `pushgate:c:group:${group}`;

/** Waits until `n` nodes are subscribed to `channel` (a login's SUBSCRIBE is not awaited by seed logins). */
export function subscribed(redis: RedisServer, channel: string, n = 1, ms = 3000): Promise<true> {
  return until(async () => (await numsub(redis, channel)) === n || undefined, `${n} subscriber(s) of ${channel}`, ms, 10);
}

/** Closes clients and waits (bounded) until each saw its close, so node counts have settled. */
export async function closeAll(...clients: Array<{ close(): void; closed: Promise<unknown> }>): Promise<void> {
  for (const c of clients) c.close();
  await Promise.race([Promise.all(clients.map((c) => c.closed)), Bun.sleep(3000)]);
}

/** How long the fixture's beforeAll (Redis + nodes) and afterAll (cleanup) may each take. */
const FIXTURE_MS = 30_000;

export type Recover = Record<string, { epoch: string; offset: number }>;

export interface ClusterHooks {
  /** In beforeAll, once Redis answers and before any node starts. */
  redisStarted?(redis: RedisServer): void | Promise<void>;
  /** In afterAll, after the tracked clients were closed and before the nodes and Redis are stopped. */
  beforeStop?(): void;
}

export interface Cluster<N extends readonly string[]> {
  /** Valid from beforeAll on. */
  readonly redis: RedisServer;
  /** The nodes, in the order of `names`; valid from beforeAll on. */
  readonly nodes: { -readonly [K in keyof N]: Node };
  /** Closes `client` in afterAll. */
  track<C extends { close(): void }>(client: C): C;
  /** A tracked seed client logged in as `uid` on `node`. */
  login(node: Node, uid: string): Promise<TestClient>;
  /** A tracked pushgate.v1 client authenticated as `uid` on `node` (recovering `recover`), and its welcome. */
  jsonLogin(node: Node, uid: string, recover?: Recover): Promise<{ c: JsonClient; welcome: JsonFrame }>;
}

/**
 * For a describe(): beforeAll starts a RedisServer and `startNodes(names, extra)` on it; afterAll
 * closes every tracked client, kills the nodes this process started and stops Redis.
 */
export function clusterFixture<const N extends readonly string[]>(
  names: N, extra: readonly string[] = [], hooks: ClusterHooks = {},
): Cluster<N> {
  let redis: RedisServer | undefined;
  let nodes: Node[] = [];
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    await hooks.redisStarted?.(redis);
    nodes = await startNodes(redis, names, extra);
  }, FIXTURE_MS);

  afterAll(async () => {
    for (const c of clients) try { c.close(); } catch {}
    hooks.beforeStop?.();
    await killStartedNodes();
    await redis?.stop();
  }, FIXTURE_MS);

  const track = <C extends { close(): void }>(client: C): C => {
    clients.push(client);
    return client;
  };

  return {
    get redis(): RedisServer {
      if (!redis) throw new Error("cluster fixture: Redis is not started (before beforeAll?)");
      return redis;
    },
    get nodes() {
      return nodes as { -readonly [K in keyof N]: Node };
    },
    track,
    login: async (node, uid) => track(await TestClient.login(node, uid)),
    jsonLogin: async (node, uid, recover) => {
      const c = track(await JsonClient.connect(node));
      c.send(recover ? { type: "auth", uid, recover } : { type: "auth", uid });
      const welcome = await c.next("welcome", 5000);
      return { c, welcome };
    },
  };
}

/**
 * For a describe(): a RedisServer of its own and one node in this process per name on it
 * (createPushgate, started one after another with `config` and `optsOf(name)`), shut down and
 * stopped in afterAll. Read them in a beforeAll of the describe, after this call.
 */
export function inProcessCluster<const N extends readonly string[]>(
  names: N, config: Partial<Config> = {}, optsOf: (name: N[number]) => StartOptions = () => ({}),
): { readonly redis: RedisServer; readonly nodes: { -readonly [K in keyof N]: Pushgate } } {
  let redis: RedisServer | undefined;
  const nodes: Pushgate[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const name of names) {
      nodes.push(await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", redisUrl: redis.url, ...config }, optsOf(name)));
    }
  }, FIXTURE_MS);
  afterAll(async () => {
    for (const n of nodes) await n.shutdown();
    await redis?.stop();
  }, FIXTURE_MS);
  return {
    get redis(): RedisServer {
      if (!redis) throw new Error("inProcessCluster: Redis is not started (before beforeAll?)");
      return redis;
    },
    nodes: nodes as unknown as { -readonly [K in keyof N]: Pushgate },
  };
}
