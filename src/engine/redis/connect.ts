// Builds and connects the Redis engine from the config; a start error names the Redis URL
// (without its password).
import type { Config } from "../../config/types.ts";
import type { HistoryStore } from "../../history/types.ts";
import type { Logger } from "../../ops/log.ts";
import { RedisEngine } from "./engine.ts";

export async function connectRedisEngine(config: Config, nodeId: string, log: Logger, history: HistoryStore): Promise<RedisEngine> {
  const urls = redisUrls(config.redisUrl!);
  const engine = new RedisEngine({
    urls, nodeId, log, history,
    historySize: config.historySize, historyTtlMs: config.historyTtlMs,
    presenceTtlMs: config.presenceTtlMs, timeoutMs: config.clusterTimeoutMs, maxReplyBytes: config.clusterMaxReply, batchMax: config.redisBatch,
    maxPerUid: config.maxConnectionsPerUid,
  });
  try {
    await engine.start();
  } catch (e) {
    await engine.stop().catch(() => {});
    throw new Error(`cannot reach Redis at ${urls.map(redact).join(", ")}: ${(e as Error).message}`);
  }
  log.info("cluster_joined", { nodeId, redis: urls.map(redact).join(","), shards: urls.length });
  return engine;
}

/** --redis: one URL, or several separated by commas (one per shard, the same list in the same order on every node). */
export function redisUrls(value: string): string[] {
  return value.split(",").map((u) => u.trim()).filter((u) => u !== "");
}

/** The URL without its password, for logs and errors. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
