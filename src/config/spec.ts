// One row per option: its flag, env var, default and how to parse it. --help and
// docs/configuration.md are written from this table, so they cannot drift from the code.
import type { Config } from "./types.ts";
import {
  type Parsed, parseBoolean, parseChoice, parseDuration, parseInteger, parseSize,
} from "./values.ts";

export interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: "integer" | "size" | "duration" | "boolean" | "string" | "choice";
  default: string;
  help: string;
  parse(raw: string): Parsed<unknown>;
}

const KIB = 1024;
const MIB = 1024 * 1024;
const int = (min: number, max: number) => (raw: string) => parseInteger(raw, min, max);
const size = (min: number, max: number) => (raw: string) => parseSize(raw, min, max);
const duration = (min: number, max: number) => (raw: string) => parseDuration(raw, min, max);
const str = (raw: string): Parsed<string> => ({ value: raw });

function row(
  key: keyof Config, kind: OptionSpec["kind"], def: string, help: string,
  parse: OptionSpec["parse"], flag?: string,
): OptionSpec {
  const dashed = key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()).replace(/-ms$/, "");
  const env = "PUSHGATE_" + dashed.replace(/-/g, "_").toUpperCase();
  return { key, flag: flag ?? "--" + dashed, env, kind, default: def, help, parse };
}

export const OPTIONS: readonly OptionSpec[] = [
  row("port", "integer", "1234", "TCP port for WebSocket, HTTP API, /healthz and /metrics (0 = any free port).", int(0, 65535)),
  row("host", "string", "0.0.0.0", "Address to listen on.", str),
  row("auth", "choice", "uid", "How a connection logs in. uid: the first frame is the uid (anyone can claim any uid). jwt: a signed token (docs/auth.md). hook: your backend decides (--hook-url, docs/hooks.md).", (r) => parseChoice(r, ["uid", "jwt", "hook"] as const)),
  row("jwtSecret", "string", "", "HS256 secret for --auth jwt. Prefer the env var: flags show in `ps`.", str),
  row("jwtPublicKey", "string", "", "Path to an RS256/ES256 public key (PEM or JWK file) for --auth jwt.", str),
  row("jwtIssuer", "string", "", "When set, a token's `iss` must equal it.", str),
  row("jwtAudience", "string", "", "When set, a token's `aud` must contain it.", str),
  row("jwtLeeway", "integer", "5", "Seconds of clock skew allowed when checking `nbf` (a token past `exp` is always refused: the connection closes at `exp`).", int(0, 3600)),
  row("allowClientSend", "boolean", "true", "Whether clients may push: seed `X:payload` / `all:payload` and pushgate.v1 `send`.", parseBoolean),
  row("loginTimeoutMs", "duration", "10s", "A socket that has not logged in by then is closed with 1008.", duration(50, 3_600_000)),
  row("maxPayload", "size", "64KiB", "Largest inbound WebSocket frame; larger closes the socket with 1009.", size(16, 16 * MIB)),
  row("maxJsonDepth", "integer", "32", "Deepest nesting of arrays and objects in a pushgate.v1 frame or an HTTP API body (the outermost value counts 1); deeper is refused with E_TOO_DEEP before it is parsed. Raising it far lets one input cost seconds of CPU.", int(1, 1_000_000)),
  row("maxRecoverMessages", "integer", "1000", "Messages one pushgate.v1 login may replay in all; a stream whose replay would pass it is reported `recovered: false, reason: \"limit\"` (nothing replayed for it: refetch).", int(0, 10_000_000)),
  row("maxRecoverStreams", "integer", "1024", "Streams one pushgate.v1 `auth.recover` may name; more closes the socket with 1008.", int(1, 1_000_000)),
  row("backpressureLimit", "size", "1MiB", "Bytes queued for one slow reader before it is closed (others are not slowed).", size(1 * KIB, 1024 * MIB)),
  row("idleTimeout", "integer", "120", "Seconds without traffic before a socket is closed; the server pings shortly before (8..960, 0 = off).", int(0, 960)),
  row("rateLimit", "integer", "100", "Inbound frames per second per connection (token bucket refill rate; 0 = unlimited).", int(0, 1_000_000)),
  row("rateBurst", "integer", "200", "Token bucket size: frames a connection may send at once.", int(0, 1_000_000)),
  row("rateFrameBytes", "size", "4KiB", "A frame costs one rate-limit token per started this many characters (UTF-16 code units: bytes for ASCII, at most 3 bytes of UTF-8 each; a 64 KiB ASCII frame: 16), so a burst is bounded in size as well as in frames.", size(64, 16 * MIB)),
  row("rateLimitCloseAfter", "integer", "100", "Dropped (rate-limited) frames after which the socket is closed with 1008.", int(1, 1_000_000)),
  row("maxBadFrames", "integer", "10", "Bad frames (unparseable, unknown type, no target, invalid target uid) a connection may send before it is closed with 1008.", int(1, 1_000_000)),
  row("maxConnections", "integer", "100000", "Open WebSocket connections per process; further upgrades get HTTP 503.", int(1, 10_000_000)),
  row("maxConnectionsPerUid", "integer", "100", "Connections one uid may hold at once, on every node together (a cluster counts them in Redis); a further login is closed with 1008 E_UID_CONNECTION_LIMIT (0 = unlimited).", int(0, 1_000_000)),
  row("maxGroupsPerConnection", "integer", "256", "Groups one connection may join.", int(1, 1_000_000)),
  row("maxSessionBytes", "size", "4KiB", "Largest per-connection session (as JSON text).", size(2, 1 * MIB)),
  row("apiKey", "string", "", "Bearer key for the HTTP API. Unset: the API answers loopback callers only. Prefer the env var: flags show in `ps`.", str),
  row("adminEvents", "integer", "200", "Lifecycle events (connection open, login, close) each node keeps for the /admin dashboard, in a ring buffer (the oldest is overwritten). The dashboard is on only with --api-key; 0 keeps none.", int(0, 100_000)),
  row("apiMaxBody", "size", "128KiB", "Largest HTTP API request body. Parsing a body costs up to about 60 ms per MiB of JSON on the event loop (an object of many distinct keys), so a larger limit lets one request stall every connection that long.", size(2, 64 * MIB)),
  row("apiMaxBatch", "integer", "1000", "Most calls in one `batch` request.", int(1, 100_000)),
  row("apiMaxList", "integer", "20000", "Most entries (uids, clientIds, group names) the list answers of one API request may hold together (a batch's calls summed); a list past it answers 400 E_LIST_TOO_LARGE.", int(1, 100_000_000)),
  row("apiMaxFanout", "integer", "10000", "Connections the pushes of one API request may reach together (a batch's calls summed); once past it, the batch's later pushes answer E_FANOUT_TOO_LARGE without running. The first push always runs.", int(1, 1_000_000_000)),
  row("apiMaxMemberships", "integer", "10000", "Group memberships one API request may change (joinGroup/leaveGroup by uid count the uid's connections, ungroup the group's members; a batch's calls summed), checked before anything runs; more answers 400 E_TOO_MANY_TARGETS.", int(1, 100_000_000)),
  row("apiMaxTargets", "integer", "1000", "Most uids, groups and clientIds one API request may name (targets and `exclude` entries together, summed over a batch's calls); more answers 400 E_TOO_MANY_TARGETS before anything runs.", int(1, 10_000_000)),
  row("historySize", "integer", "100", "Messages kept per stream (uid, group, all) for recovery (0 = no history).", int(0, 1_000_000)),
  row("historyTtlMs", "duration", "5m", "How long a message stays in its stream's history.", duration(1000, 86_400_000)),
  row("historyMaxBytes", "size", "64MiB", "Memory cap of all histories; past it the least recently written streams are dropped (their epoch changes).", size(64 * KIB, 64 * 1024 * MIB)),
  row("idempotencyWindowMs", "duration", "5m", "How long an API idempotencyKey is remembered.", duration(1000, 86_400_000)),
  row("idempotencyMaxKeys", "integer", "100000", "Most idempotency keys remembered at once (oldest forgotten first).", int(1, 10_000_000)),
  row("redisUrl", "string", "", "Redis URL (redis://host:port[/db]): makes this node a cluster member. Several URLs separated by commas shard the streams over several Redis instances (the same list, in the same order, on every node; the first also carries node calls and presence). Unset: one standalone node.", str, "--redis"),
  row("workers", "integer", "1", "Server processes on this machine sharing the port (reusePort); above 1 needs --redis. A crashed worker is restarted.", int(1, 64)),
  row("presenceTtlMs", "duration", "15s", "A node that stops heartbeating drops out of cluster presence after this long.", duration(1000, 600_000)),
  row("clusterMaxReply", "size", "8MiB", "Largest answer one node sends another over Redis pub/sub (its part of a merged list or map, as JSON). A larger part answers E_LIST_TOO_LARGE instead: Redis cuts a subscriber whose output buffer passes its `client-output-buffer-limit pubsub` (32 MB by default), and that connection carries the asking node's pushes. Keep it well below that limit.", size(1024, 512 * MIB)),
  row("clusterTimeoutMs", "duration", "2s", "How long a cross-node call (presence query, remote client call) waits for answers.", duration(50, 60_000)),
  row("redisBatch", "integer", "256", "Most pushes sent to Redis in one script call (pushes made in one event-loop turn travel together; a larger batch holds Redis longer per call).", int(1, 10_000)),
  row("hookUrl", "string", "", "Your backend's hook URL (http:// or https://): --auth hook POSTs each login there, pushgate.v1 `rpc` frames are answered by it (docs/hooks.md). Unset: no hook.", str),
  row("hookTimeoutMs", "duration", "2s", "How long a hook request may take; past it the login closes 1013 E_BACKEND_TIMEOUT, an rpc answers E_BACKEND_TIMEOUT.", duration(50, 60_000)),
  row("hookConcurrency", "integer", "64", "Hook requests in flight at once (keep-alive connections to the backend); more wait in a queue.", int(1, 10_000)),
  row("hookQueue", "integer", "1024", "Hook requests that may wait for a free slot; past it a request answers E_BACKEND_UNAVAILABLE at once.", int(0, 1_000_000)),
  row("hookMaxBody", "size", "64KiB", "Largest hook answer read; a longer one counts as a broken answer (E_BACKEND_UNAVAILABLE).", size(256, 16 * MIB)),
  row("hookHeaders", "string", "cookie,authorization,origin,user-agent", "Request headers of the WebSocket upgrade passed to the connect hook (comma-separated, case-insensitive).", str),
  row("channelRules", "string", "", "Path to a JSON file of rules saying which groups pushgate.v1 clients may subscribe to themselves, and how it is authorized (public, the backend's subscribe hook, or a channel token). Unset: clients cannot subscribe (docs/protocol.md).", str),
  row("seedErrors", "choice", "json", "What a seed-protocol socket is told of a refused frame. json: a `{\"type\":\"error\",…}` text frame (a plain Workerman page shows it as a message). silent: nothing, as the seed server does (the error is still counted in pushgate_errors_total, and closes keep their code and reason).", (r) => parseChoice(r, ["json", "silent"] as const)),
  row("seedMessages", "choice", "route", "Seed frames after login. route: `X:payload` / `all:payload` are pushes. backend: every frame goes to the backend as a `message` (GatewayWorker's onMessage) and its `reply` comes back (docs/hooks.md).", (r) => parseChoice(r, ["route", "backend"] as const)),
  row("webhookUrl", "string", "", "Where events are POSTed (connection.open/close, user.online/offline, message.undelivered), batched and signed; on a cluster through a durable Redis Stream (docs/hooks.md). Unset: none.", str),
  row("webhookSecret", "string", "", "HMAC-SHA256 key that signs every webhook POST (required with --webhook-url). Prefer the env var: flags show in `ps`.", str),
  row("webhookBatchMs", "duration", "50ms", "How long events gather before a webhook POST.", duration(0, 60_000)),
  row("webhookBatchMax", "integer", "100", "Most events in one webhook POST.", int(1, 10_000)),
  row("webhookQueue", "integer", "10000", "Webhook events that may wait to be sent (in memory; on a cluster in the Redis outbox); past it an event is dropped (counted and logged).", int(1, 10_000_000)),
  row("webhookRetryMs", "duration", "5m", "How long a webhook batch is retried (exponential backoff, full jitter) before it is dropped (counted and logged).", duration(0, 86_400_000)),
  row("webhookEvents", "string", "connection.open,connection.close,user.online,user.offline,message.undelivered", "Which webhook events to send (comma-separated). message.undelivered makes a client push on a cluster ask every node for its count.", str),
  row("webhookDebounceMs", "duration", "3s", "user.offline waits this long for the uid to come back (a page reload is not an offline + online pair).", duration(0, 600_000)),
  row("webhookMaxData", "size", "4KiB", "Largest client data a message.undelivered event carries; longer data is left out (`data: null`, `dataTruncated: true`, `dataBytes`), so queued events stay small.", size(0, 16 * MIB)),
  row("drainTimeoutMs", "duration", "5s", "On SIGTERM/SIGINT: how long to wait for queued data to flush before closing every socket with 1001.", duration(0, 600_000)),
  row("logLevel", "choice", "info", "Log level: debug, info, warn, error, silent.", (r) => parseChoice(r, ["debug", "info", "warn", "error", "silent"] as const)),
];
