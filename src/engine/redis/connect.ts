// Builds and connects the Redis engine from the config; a start error names the Redis URL
// (without its password).
import type { Config } from "../../config/types.ts";
import type { HistoryStore } from "../../history/types.ts";
import type { Logger } from "../../ops/log.ts";
import { RedisEngine } from "./engine.ts";

export async function connectRedisEngine(config: Config, nodeId: string, log: Logger, history: HistoryStore): Promise<RedisEngine> {
  const engine = new RedisEngine({
    url: config.redisUrl!, nodeId, log, history,
    historySize: config.historySize, historyTtlMs: config.historyTtlMs,
    presenceTtlMs: config.presenceTtlMs, timeoutMs: config.clusterTimeoutMs, batchMax: config.redisBatch,
  });
  try {
    await engine.start();
  } catch (e) {
    await engine.stop().catch(() => {});
    throw new Error(`cannot reach Redis at ${redact(config.redisUrl!)}: ${(e as Error).message}`);
  }
  log.info("cluster_joined", { nodeId, redis: redact(config.redisUrl!) });
  return engine;
}

/** The URL without its password, for logs and errors. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
