// Connects a node to Redis and wires the cluster into its hub: remote pushes are delivered
// here, remote API calls run here, Redis state is a metric.
import { METHODS } from "../api/methods/index.ts";
import { guarded } from "../api/guard.ts";
import { Params } from "../api/params.ts";
import type { Config } from "../config/types.ts";
import type { Hub } from "../core/hub.ts";
import { err } from "../core/result.ts";
import type { Logger } from "../ops/log.ts";
import { RedisCluster } from "./redis.ts";

export async function joinCluster(config: Config, nodeId: string, log: Logger): Promise<RedisCluster> {
  const cluster = new RedisCluster({
    url: config.redisUrl!, nodeId, log,
    historySize: config.historySize, historyTtlMs: config.historyTtlMs,
    presenceTtlMs: config.presenceTtlMs, timeoutMs: config.clusterTimeoutMs,
  });
  try {
    await cluster.start();
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw new Error(`cannot reach Redis at ${redact(config.redisUrl!)}: ${(e as Error).message}`);
  }
  log.info("cluster_joined", { nodeId, redis: redact(config.redisUrl!) });
  return cluster;
}

export function attachCluster(hub: Hub, cluster: RedisCluster): void {
  hub.cluster = cluster;
  hub.metrics.registry.add(hub.metrics.redisConnected(() => (cluster.connected ? 1 : 0)));
  // A push from another node: counted there (publishes, offline); here only frames out.
  cluster.deliver = (stream, payload, at, excludeIds) =>
    hub.deliver(stream, payload, excludeIds ? hub.localConns(excludeIds) : null, at);
  // Guarded like a local call: a fault is answered (E_INTERNAL, flagged when it may have acted),
  // not left for the caller to time out on.
  cluster.runLocal = async (method, params) => {
    const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
    return fn ? guarded(method, hub, () => fn(new Params(params), hub)) : err("E_UNKNOWN_METHOD", `unknown method ${method}`);
  };
}

/** The URL without its password, for logs and errors. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
