// Command line → benchmark parameters: `bun run bench [standalone|cluster ...] [--quick] [--clients N] [--rounds N]`.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BurstOptions, RateOptions } from "./types.ts";

/** Logins of the hooks scenario's connect-proxy measurement (one load process per 5,000). */
export const MAX_HOOK_LOGINS = 10_000;

/** Members of the presence scenario's presence group (over processes of at most 2,500; one server holds them all). */
export const MAX_PRESENCE_MEMBERS = 19_000;

/** Each process holds one fd per client; RLIMIT_NOFILE is 20,000 here, so stay well below. */
export const MAX_CLIENTS = 15_000;
/** Split over load processes of at most 5,000 sockets each, but the one server holds them all. */
export const MAX_CAPACITY_CLIENTS = 19_000; // the memory target is at 19,000 (server fds: sockets + ~20)

/** Scale: N over 19,000-socket load processes and 8 source addresses (~28k ephemeral ports each). */
export const MAX_SCALE_CLIENTS = 200_000;

/** `scale` runs only when named (it needs minutes and several GiB); so does `soak` (it runs alone, --minutes N). */
// `adversarial` too: it runs alone (adversarial.ts); and `hooks` (hooks.ts), and `presence` (presence.ts).
export const SCENARIOS = ["standalone", "capacity", "api", "cluster", "scale", "soak", "adversarial", "hooks", "presence"] as const;
const DEFAULT_SCENARIOS: readonly Scenario[] = ["standalone", "capacity", "api", "cluster"];
export type Scenario = (typeof SCENARIOS)[number];

export interface Params {
  /** Which scenario groups run, in SCENARIOS order (default: all). */
  scenarios: Scenario[];
  quick: boolean;
  /** Wire format of pushgate's clients in the standalone and cluster scenarios (the controls always speak seed). */
  protocol: "seed" | "json";
  clients: number;
  /** Each round runs the load once against each server, alternating which goes first. */
  rounds: number;
  sources: number;
  broadcast: BurstOptions;
  targeted: RateOptions;
  /**
   * N idle logged-in clients against a fresh server of each kind (--capacity-clients); with
   * `cluster` (--capacity-cluster) also against two fresh pushgates over one fresh Redis, N/2 each.
   */
  capacity: { clients: number; rounds: number; connectTimeoutMs: number; cluster: boolean };
  /** HTTP API pushes to connected clients (pushgate only). */
  api: {
    receivers: number;
    single: { rate: number; seconds: number; maxInFlight: number; drainMs: number };
    batch: { size: number; seconds: number; concurrency: number; drainMs: number };
  };
  /** Two pushgate nodes over Redis vs one node: clients are split into senders (A) and receivers (B). */
  cluster: {
    targeted: RateOptions;
    throughput: BurstOptions;
    /** redis-servers of the pushgate cluster's engine tier (--redis url1,url2,… on both nodes); the relay keeps one. */
    redisShards: number;
  };
  /** `--workers 6` pushgate over Redis with N logged-in clients (--scale-clients), then reachability. */
  scale: { clients: number; connectTimeoutMs: number };
  /** Churn, publish stream and verifiers against one server for --minutes N (soak.ts). */
  soak: { minutes: number };
  /** Worst inputs under default limits against a healthy client (adversarial.ts). */
  adversarial: { root: string | null; only: string[] | null; cpuProfDir: string | null };
  /** The backend hooks: rpc round trips, connect-proxy logins, webhook delivery, each vs its control (hooks.ts). */
  hooks: {
    rpc: { rate: number; seconds: number; conns: number; drainMs: number; maxInFlight: number };
    /** Logins per measurement, --auth hook vs uid mode. */
    logins: number;
    webhook: {
      /** Live: sockets opened and closed (2 events each) by `liveProcesses` generator processes, paced under the default --webhook-queue. */
      liveSockets: number; liveProcesses: number;
      /** Backlog: events queued behind a held POST, then drained (and the bare poster's count). */
      backlogEvents: number;
      /** --webhook-queue of the webhook servers (raised above the default 10,000 so the backlog fits). */
      queue: number;
      /** The batch sizes measured: the default --webhook-batch-max and a larger one. */
      batches: number[];
    };
  };
  /** Client subscribes and group presence, each vs its API control (presence.ts). */
  presence: {
    /** `conns` pushgate.v1 connections each join `perConn` of `groups` public groups: subscribe frames vs API joinGroup. */
    subscribe: { conns: number; groups: number; perConn: number; apiConns: number };
    /**
     * `members` connections (uids m0..m<memberUids-1>, `perProcess` per load process) in one
     * presence group; `events` joins and as many leaves of a probe connection vs 2·events
     * sendToGroup pushes, one every `intervalMs`.
     */
    group: { members: number; memberUids: number; perProcess: number; events: number; intervalMs: number };
  };
}

export const USAGE = `usage: bun run bench [standalone|capacity|api|cluster|scale|soak|adversarial|hooks|presence ...] [--quick] [--clients N] [--rounds N] [--capacity-clients N] [--capacity-cluster] [--scale-clients N]
                     [--targeted-rate N] [--cluster-rate N] [--redis-shards N] [--api-rate N] [--protocol seed|json] [--minutes N] [--rpc-rate N] [--hook-logins N]
                     [--presence-members N] [--presence-events N]
  standalone    pushgate vs the bare Bun.serve topic control and the Map control: setup, broadcast, targeted
  capacity      N idle logged-in clients per server (fresh server each): login rate, CPU, RSS per connection
  api           HTTP POST /api/sendToUid at a fixed rate, then /api/batch of 100 sendToUid (pushgate vs the bare control)
  cluster       two pushgate nodes over Redis (senders on A, receivers on B) vs one node
                (needs redis-server; skipped with a note without it). Default: these four, in this order.
  scale         only when named: pushgate --workers 6 over its own Redis, N logged-in clients from
                several load processes: login rate, RSS per worker and per connection, then
                sendToUid to 1,000 random uids and one sendToAll over the HTTP API (needs redis-server)
  soak          only when named, and alone: --minutes N of connect/login/join/close churn, an HTTP
                publish stream and pushgate.v1 verifiers against one pushgate; RSS/heap curve and a
                verdict (flat after warm-up, presence back to the truth, nothing missed)
  --minutes N   soak duration in minutes (default 2, 0.5 to 240; fractions allowed)
  adversarial   only when named, and alone: the worst inputs per path under default limits (deep/wide
                JSON, max uids, groups, batch, exclude, sessions, tokens) while a healthy client
                measures its round trips; worst stall per input class (~1.5 min)
  --adversarial-root DIR     start DIR/src/main.ts (another checkout, for a before/after table)
  --adversarial-only A,B     only these input classes (names as in the table)
  --adversarial-cpu-prof DIR bun --cpu-prof for the servers, profiles written to DIR
  hooks         only when named, and alone: the backend hooks against controls in the same run: rpc
                round trips through pushgate vs fetch straight to the backend; --auth hook logins vs
                uid-mode logins; webhook events/s (live churn and a drained backlog, --webhook-batch-max
                100 and 1000) vs a bare poster to the same receiver (~1 min; --quick ~15 s)
  --rpc-rate N  rpc calls/s of the hooks scenario (default 5000, the issue's target load)
  --hook-logins N  logins per measurement in the hooks scenario (default 2000, quick 1000, at most ${MAX_HOOK_LOGINS})
  presence      only when named, and alone: pushgate.v1 subscribes (--channel-rules) vs API joinGroup
                (2,000 connections x 5 public groups), and join/leave frames to a 10,000-member
                presence group vs sendToGroup pushes to it: CPU per event, time to the last member (~3 min; --quick ~25 s)
  --presence-members N  members of the presence group (default 10000, quick 4000, at most ${MAX_PRESENCE_MEMBERS})
  --presence-events N   joins (and as many leaves) per measurement; the control pushes 2N (default 40, quick 20)
  --quick       200 clients, 300 broadcast messages, 2 s targeted, 2,000 capacity clients, 1 s api
                phases, 5,000 cluster throughput messages, 1 round
  --clients N   logged-in clients per server (default 1000, quick 200, at most ${MAX_CLIENTS})
  --rounds N    rounds per server, alternating order; medians are reported (default 3, quick 1;
                capacity runs at most 2)
  --capacity-clients N  idle clients in the capacity scenario (default 10000, quick 2000, at most ${MAX_CAPACITY_CLIENTS})
  --capacity-cluster    capacity also gets a cluster column: per round a fresh redis-server and two fresh
                        pushgates with --redis (what --workers 2 runs), N/2 clients on each; CPU and
                        RSS are both processes' sums; ratios cluster/control and cluster/pushgate
                        (needs redis-server)
  --scale-clients N     clients in the scale scenario (default 100000, quick 5000, at most ${MAX_SCALE_CLIENTS})
  --cluster-rate N      messages/s of the cluster targeted phase (default 10000, the cluster target's load)
  --redis-shards N      redis-servers under the pushgate cluster (1..4, default 1): both nodes get
                        --redis url1,...,urlN; Redis CPU per message is reported per shard and in total
                        (the relay control keeps one Redis)
  --targeted-rate N     messages/s of the standalone targeted phase (default 2000; the issue's target: 20000 with --clients 10000)
  --api-rate N          requests/s of api-single (default 2000; the issue's target: 5000)
  --protocol json       pushgate's clients speak pushgate.v1 (JSON envelopes, acknowledged sends,
                        history) instead of seed, in the standalone and the cluster scenario (cluster
                        A+B and the single node; every push then goes to history); the controls and
                        the relay still speak seed, so the ratios are the whole cost of the lossless
                        protocol over the bare seed server`;

export function parseParams(argv: readonly string[]): Params | string {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        quick: { type: "boolean", default: false },
        clients: { type: "string" },
        rounds: { type: "string" },
        "capacity-clients": { type: "string" },
        "capacity-cluster": { type: "boolean", default: false },
        "scale-clients": { type: "string" },
        minutes: { type: "string" },
        "adversarial-root": { type: "string" },
        "adversarial-only": { type: "string" },
        "adversarial-cpu-prof": { type: "string" },
        "targeted-rate": { type: "string" },
        "api-rate": { type: "string" },
        "cluster-rate": { type: "string" },
        "redis-shards": { type: "string" },
        protocol: { type: "string" },
        "rpc-rate": { type: "string" },
        "hook-logins": { type: "string" },
        "presence-members": { type: "string" },
        "presence-events": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    return (e as Error).message;
  }
  if (values.help) return "";
  const unknown = positionals.find((x) => !(SCENARIOS as readonly string[]).includes(x));
  if (unknown !== undefined) return `unknown scenario ${JSON.stringify(unknown)} (expected ${SCENARIOS.join(" or ")})`;
  const scenarios = SCENARIOS.filter((x) => (positionals.length === 0 ? DEFAULT_SCENARIOS.includes(x) : positionals.includes(x)));
  const quick = values.quick;
  const clients = intOption("--clients", values.clients, quick ? 200 : 1000, 2, MAX_CLIENTS);
  const rounds = intOption("--rounds", values.rounds, quick ? 1 : 3, 1, 5);
  const capClients = intOption("--capacity-clients", values["capacity-clients"], quick ? 2000 : 10_000, 2, MAX_CAPACITY_CLIENTS);
  if (typeof capClients === "string") return capClients;
  const scaleClients = intOption("--scale-clients", values["scale-clients"], quick ? 5000 : 100_000, 2, MAX_SCALE_CLIENTS);
  if (typeof scaleClients === "string") return scaleClients;
  if (typeof clients === "string") return clients;
  if (typeof rounds === "string") return rounds;
  const targetedRate = intOption("--targeted-rate", values["targeted-rate"], 2000, 10, 100_000);
  if (typeof targetedRate === "string") return targetedRate;
  const apiRate = intOption("--api-rate", values["api-rate"], 2000, 10, 50_000);
  if (typeof apiRate === "string") return apiRate;
  const clusterRate = intOption("--cluster-rate", values["cluster-rate"], 10_000, 10, 100_000);
  if (typeof clusterRate === "string") return clusterRate;
  const redisShards = intOption("--redis-shards", values["redis-shards"], 1, 1, 4);
  if (typeof redisShards === "string") return redisShards;
  const rpcRate = intOption("--rpc-rate", values["rpc-rate"], 5000, 10, 20_000);
  if (typeof rpcRate === "string") return rpcRate;
  const hookLogins = intOption("--hook-logins", values["hook-logins"], quick ? 1000 : 2000, 2, MAX_HOOK_LOGINS);
  if (typeof hookLogins === "string") return hookLogins;
  const presenceMembers = intOption("--presence-members", values["presence-members"], quick ? 4000 : 10_000, 2, MAX_PRESENCE_MEMBERS);
  if (typeof presenceMembers === "string") return presenceMembers;
  const presenceEvents = intOption("--presence-events", values["presence-events"], quick ? 20 : 40, 1, 500);
  if (typeof presenceEvents === "string") return presenceEvents;
  const minutes = values.minutes === undefined ? 2 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes < 0.5 || minutes > 240) return `--minutes must be a number from 0.5 to 240, got ${JSON.stringify(values.minutes)}`;
  if (scenarios.includes("soak") && scenarios.length > 1) return "soak runs on its own: bun run bench soak --minutes N";
  if (scenarios.includes("adversarial") && scenarios.length > 1) return "adversarial runs on its own: bun run bench adversarial";
  if (scenarios.includes("hooks") && scenarios.length > 1) return "hooks runs on its own: bun run bench hooks";
  if (scenarios.includes("presence") && scenarios.length > 1) return "presence runs on its own: bun run bench presence";
  const advOnly = values["adversarial-only"]?.split(",").map((x) => x.trim()).filter((x) => x !== "") ?? null;
  if (values["capacity-cluster"] && !scenarios.includes("capacity")) return "--capacity-cluster is a column of the capacity scenario: name it too (bun run bench capacity --capacity-cluster)";
  const protocol = values.protocol ?? "seed";
  if (protocol !== "seed" && protocol !== "json") return `--protocol must be seed or json, got ${JSON.stringify(protocol)}`;
  return {
    scenarios, quick, protocol, clients, rounds, sources: 8,
    broadcast: { messages: quick ? 300 : 2000, burst: 20, window: 200, timeoutMs: quick ? 10_000 : 25_000, idleMs: 3000 },
    targeted: { rate: targetedRate, seconds: quick ? 2 : 5, drainMs: 2000 },
    capacity: { clients: capClients, rounds: Math.min(rounds, 2), connectTimeoutMs: Math.min(120_000, 10_000 + capClients * 3), cluster: values["capacity-cluster"] },
    api: {
      receivers: quick ? 100 : 500,
      single: { rate: apiRate, seconds: quick ? 1 : 3, maxInFlight: 256, drainMs: 2000 },
      batch: { size: 100, seconds: quick ? 1 : 3, concurrency: 4, drainMs: 2000 },
    },
    cluster: {
      targeted: { rate: clusterRate, seconds: quick ? 2 : 5, drainMs: 2000 },
      throughput: { messages: quick ? 5000 : 20_000, burst: 100, window: 1000, timeoutMs: quick ? 10_000 : 30_000, idleMs: 3000 },
      redisShards,
    },
    scale: { clients: scaleClients, connectTimeoutMs: Math.min(300_000, 20_000 + scaleClients * 2) },
    soak: { minutes },
    adversarial: {
      root: values["adversarial-root"] === undefined ? null : resolve(values["adversarial-root"]),
      only: advOnly, cpuProfDir: values["adversarial-cpu-prof"] === undefined ? null : resolve(values["adversarial-cpu-prof"]),
    },
    hooks: {
      rpc: { rate: rpcRate, seconds: quick ? 1 : 3, conns: 50, drainMs: 2000, maxInFlight: 1000 },
      logins: hookLogins,
      webhook: { liveSockets: quick ? 2000 : 8000, liveProcesses: 2, backlogEvents: quick ? 6000 : 20_000, queue: 25_000, batches: [100, 1000] },
    },
    presence: {
      subscribe: { conns: quick ? 1000 : 2000, groups: 100, perConn: quick ? 2 : 5, apiConns: 64 },
      // Each member costs the server ~10 µs of loopback TCP per frame (one write per socket), so the
      // pace grows with the group: 300 ms at 10,000, and an event is delivered before the next.
      group: { members: presenceMembers, memberUids: 100, perProcess: 2500, events: presenceEvents, intervalMs: Math.max(60, Math.round(presenceMembers * 0.03)) },
    },
  };
}

function intOption(flag: string, raw: string | undefined, def: number, min: number, max: number): number | string {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) return `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`;
  return n;
}
