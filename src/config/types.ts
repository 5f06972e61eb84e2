// The typed server configuration. Defaults and docs live in ./spec.ts (one table drives the CLI,
// the env vars, --help and docs/configuration.md).

export type AuthMode = "uid" | "jwt" | "hook";
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface Config {
  port: number;
  host: string;
  auth: AuthMode;
  allowClientSend: boolean;
  loginTimeoutMs: number;
  maxPayload: number;
  maxJsonDepth: number;
  maxRecoverStreams: number;
  maxRecoverMessages: number;
  backpressureLimit: number;
  idleTimeout: number;
  rateLimit: number;
  rateBurst: number;
  rateFrameBytes: number;
  rateLimitCloseAfter: number;
  maxConnections: number;
  maxConnectionsPerUid: number;
  maxGroupsPerConnection: number;
  maxSessionBytes: number;
  apiKey: string | null;
  /** Lifecycle events kept per node for /admin (src/admin/events.ts). */
  adminEvents: number;
  apiMaxBody: number;
  apiMaxBatch: number;
  apiMaxTargets: number;
  apiMaxList: number;
  apiMaxFanout: number;
  apiMaxMemberships: number;
  drainTimeoutMs: number;
  logLevel: LogLevel;
  maxBadFrames: number;
  jwtSecret: string | null;
  jwtPublicKey: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  jwtLeeway: number;
  historySize: number;
  historyTtlMs: number;
  historyMaxBytes: number;
  idempotencyWindowMs: number;
  idempotencyMaxKeys: number;
  redisUrl: string | null;
  workers: number;
  presenceTtlMs: number;
  clusterTimeoutMs: number;
  /** Largest node-to-node answer (bytes of JSON) published over Redis. */
  clusterMaxReply: number;
  redisBatch: number;
  hookUrl: string | null;
  channelRules: string | null;
  hookTimeoutMs: number;
  hookConcurrency: number;
  hookQueue: number;
  hookMaxBody: number;
  hookHeaders: string;
  seedMessages: "route" | "backend";
  /** json: seed sockets get {"type":"error",…} frames; silent: none, as the seed (still counted). */
  seedErrors: "json" | "silent";
  webhookUrl: string | null;
  webhookSecret: string | null;
  webhookBatchMs: number;
  webhookBatchMax: number;
  webhookQueue: number;
  webhookRetryMs: number;
  webhookEvents: string;
  webhookDebounceMs: number;
  webhookMaxData: number;
}
