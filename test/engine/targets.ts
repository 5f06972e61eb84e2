// The conformance suite's targets: each gives the checks a sender node and a receiver node. On
// the memory engine both are one in-process node; on the Redis engine they are two subprocess
// nodes joined through a real redis-server, so every check crosses nodes. The checks only see
// `Peer`s (a port, a url and the API), never which engine is behind them.
import { afterAll, beforeAll, describe } from "bun:test";
import type { Pushgate } from "../../src/server.ts";
import { type Node, type Recover, clusterFixture } from "../cluster/nodes.ts";
import { type ApiAnswer, TestClient, startTestServer } from "../helpers.ts";
import { JsonClient, type JsonFrame } from "../json-client.ts";
import { describeRedis } from "../redis-server.ts";

export interface Peer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  api(method: string, params?: unknown): Promise<ApiAnswer>;
  /** The `result` of a call that must answer 200. */
  result(method: string, params?: unknown): Promise<any>;
}

export interface Target {
  readonly sender: Peer;
  readonly receiver: Peer;
  /** A seed client logged in as `uid` on `peer` (closed in afterAll if the test did not). */
  login(peer: Peer, uid: string): Promise<TestClient>;
  /** A pushgate.v1 client authenticated as `uid` on `peer`, and its welcome. */
  jsonLogin(peer: Peer, uid: string, recover?: Recover): Promise<{ c: JsonClient; welcome: JsonFrame }>;
}

export interface TargetDef {
  readonly name: string;
  /** describe() for this target (the Redis one skips with a printed reason without redis-server). */
  readonly describe: (name: string, fn: () => void) => void;
  /** Call inside the describe: registers beforeAll/afterAll; the target is valid from beforeAll on. */
  fixture(): Target;
}

/** An in-process node as a Peer; every call bounded like the subprocess nodes' calls. */
class LocalPeer implements Peer {
  constructor(readonly name: string, private readonly pg: () => Pushgate) {}
  get port(): number { return this.pg().port; }
  get url(): string { return this.pg().url; }

  async api(method: string, params: unknown = {}): Promise<ApiAnswer> {
    const res = await fetch(`${this.url}/api/${method}`, {
      method: "POST", body: JSON.stringify(params), signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: any = text;
    try { body = JSON.parse(text); } catch {}
    return { status: res.status, body };
  }

  async result(method: string, params: unknown = {}): Promise<any> {
    const a = await this.api(method, params);
    if (a.status !== 200 || typeof a.body !== "object" || a.body === null || !("result" in a.body)) {
      throw new Error(`${this.name} ${method}(${JSON.stringify(params)}) answered ${a.status} ${JSON.stringify(a.body)}`);
    }
    return a.body.result;
  }
}

function clientsOf(track: <C extends { close(): void }>(c: C) => C): Pick<Target, "login" | "jsonLogin"> {
  return {
    login: async (peer, uid) => track(await TestClient.login(peer, uid)),
    jsonLogin: async (peer, uid, recover) => {
      const c = track(await JsonClient.connect(peer));
      c.send(recover ? { type: "auth", uid, recover } : { type: "auth", uid });
      return { c, welcome: await c.next("welcome", 5000) };
    },
  };
}

const memory: TargetDef = {
  name: "memory (1 node)",
  describe,
  fixture() {
    let pg: Pushgate | undefined;
    const clients: Array<{ close(): void }> = [];
    beforeAll(() => void (pg = startTestServer()));
    afterAll(async () => {
      for (const c of clients) try { c.close(); } catch {}
      await pg?.shutdown();
    }, 15_000);
    const node = new LocalPeer("memory", () => {
      if (!pg) throw new Error("memory target: not started (before beforeAll?)");
      return pg;
    });
    return { sender: node, receiver: node, ...clientsOf((c) => (clients.push(c), c)) };
  },
};

const redis: TargetDef = {
  name: "redis (2 nodes)",
  describe: describeRedis,
  fixture() {
    const cluster = clusterFixture(["sender", "receiver"]);
    const at = (i: 0 | 1): Node => cluster.nodes[i];
    return {
      get sender() { return at(0); },
      get receiver() { return at(1); },
      ...clientsOf(cluster.track),
    };
  },
};

export const TARGETS: readonly TargetDef[] = [memory, redis];
