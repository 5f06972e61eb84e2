// The composition root of one pushgate node: an engine (memory by default, Redis with --redis),
// the hub over it (with its metrics and token-expiry wheel), Bun.serve with the static WebSocket
// handler, the HTTP API (with its idempotency cache), /healthz and /metrics, and the sweep
// timers. `startPushgate` is the programmatic entry; src/main.ts is the CLI.
import type { Server } from "bun";
import { readFileSync } from "node:fs";
import { Admin, adminNodeCall, adminRoute, isAdminPath } from "./admin/admin.ts";
import { ClientBundle } from "./api/client-bundle.ts";
import { runForNode } from "./api/dispatch.ts";
import { API_PREFIX, HttpApi } from "./api/http.ts";
import { IdempotencyCache } from "./api/idempotency.ts";
import type { Authenticator } from "./auth/types.ts";
import { uidAuthenticator } from "./auth/uid-auth.ts";
import { checkConflicts, defaultConfig } from "./config/parse.ts";
import type { Config } from "./config/types.ts";
import { type ChannelRules, parseChannelRules } from "./core/channel-rules.ts";
import { isNodeId, newNodeId } from "./core/client-id.ts";
import type { ConnData } from "./core/conn-data.ts";
import { Hub } from "./core/hub.ts";
import { errorResponse } from "./core/respond.ts";
import { MemoryEngine } from "./engine/memory.ts";
import { hookAuthenticator } from "./hooks/connect-auth.ts";
import { HookClient } from "./hooks/hook-client.ts";
import { type Hooks, InProcessBackend } from "./hooks/in-process.ts";
import { AppEvents } from "./hooks/app-events.ts";
import type { Backend } from "./core/backend.ts";
import type { Engine } from "./engine/types.ts";
import { MemoryHistoryStore } from "./history/memory-store.ts";
import { startHistorySweeper } from "./history/sweeper.ts";
import type { HistoryStore } from "./history/types.ts";
import { healthz, metricsText } from "./ops/health.ts";
import { type Logger, createLogger } from "./ops/log.ts";
import { createMetrics } from "./ops/metrics.ts";
import { drain } from "./ops/shutdown.ts";
import { ExpiryWheel } from "./ws/expiry.ts";
import { SubscriptionExpiry } from "./ws/subscription-expiry.ts";
import { websocketHandler } from "./ws/handler.ts";
import { startLoginSweeper } from "./ws/login-timeout.ts";
import { upgrade } from "./ws/upgrade.ts";

/**
 * The `cause` of a start error whose option value can never work (a too-short secret, a bad key,
 * malformed --channel-rules): src/main.ts exits 2 for it, as for any bad option, so a process
 * manager does not restart into the same error. Other start errors exit 1.
 */
export const BAD_OPTION = "bad-option";

export interface StartOptions {
  logger?: Logger;
  auth?: Authenticator;
  /** 8 lowercase hex characters (the clientId prefix); random when absent. */
  nodeId?: string;
  /** The engine (started already) and the history store it uses; a MemoryEngine when absent. */
  engine?: { engine: Engine; history: HistoryStore };
  /** In-process hooks (src/hooks/in-process.ts): they answer instead of --hook-url. */
  hooks?: Hooks;
}

/** The node id to use: opts.nodeId (checked) or a random one. */
function nodeIdOf(opts: StartOptions): string {
  if (opts.nodeId === undefined) return newNodeId();
  if (!isNodeId(opts.nodeId)) throw new Error(`nodeId must be 8 lowercase hex characters, got ${JSON.stringify(opts.nodeId)}`);
  return opts.nodeId;
}

export interface Pushgate extends AsyncDisposable {
  readonly server: Server<ConnData>;
  readonly hub: Hub;
  readonly port: number;
  readonly url: string;
  /** Stop accepting, close every socket with 1001, wait up to drainTimeoutMs, then stop. */
  shutdown(): Promise<void>;
}

/** Starts a node; for `auth: "jwt"` use createPushgate (it loads the key) or pass `opts.auth`. */
export function startPushgate(overrides: Partial<Config> = {}, opts: StartOptions = {}): Pushgate {
  const config = defaultConfig(overrides);
  const conflict = checkConflicts(config, opts.hooks !== undefined);
  if (conflict) throw new Error(conflict);
  if (config.auth === "jwt" && !opts.auth) throw new Error(`auth mode ${config.auth} needs createPushgate() or opts.auth`);
  const log = opts.logger ?? createLogger(config.logLevel);
  const history = opts.engine?.history ?? memoryHistory(config);
  const engine = opts.engine?.engine ?? new MemoryEngine(history);
  // The gauges read the hub when scraped, after it exists.
  const metrics = createMetrics({
    connections: () => hub.clients.size,
    loggedIn: () => hub.members.loggedIn,
    uids: () => hub.members.uids.size,
    groups: () => hub.members.groups.size,
    history: () => history.stats(),
  });
  const backend: Backend | null = opts.hooks ? new InProcessBackend(opts.hooks, config.hookTimeoutMs, metrics, log)
    : config.hookUrl === null ? null
    : new HookClient({
      url: config.hookUrl, timeoutMs: config.hookTimeoutMs, concurrency: config.hookConcurrency,
      queue: config.hookQueue, maxBody: config.hookMaxBody, maxDepth: config.maxJsonDepth,
    }, metrics);
  const auth = opts.auth ?? (config.auth === "hook" && backend ? hookAuthenticator(backend, config.maxGroupsPerConnection) : uidAuthenticator);
  const nodeId = nodeIdOf(opts);
  const appEvents = AppEvents.of({
    config, nodeId, distributed: engine.distributed, hooks: opts.hooks ?? null, metrics, log,
    held: () => hub.members.uids.keys(), holds: (uid) => hub.members.uids.count(uid) > 0,
  });
  // /admin (on with an API key) records lifecycle events through the hub's NodeEvents.
  const admin = Admin.of(config, log);
  // An in-process backend answers subscribes only with a subscribe hook.
  const subscribeBackend = opts.hooks ? opts.hooks.subscribe !== undefined : backend !== null;
  const channels = loadChannelRules(config, subscribeBackend, auth.verifier !== undefined);
  const hub = new Hub({
    config, log, auth, history, nodeId, engine, metrics,
    expiry: new ExpiryWheel(), subExpiry: new SubscriptionExpiry(), backend, events: admin ? admin.listen(appEvents) : appEvents, channels,
  });
  engine.register({
    deliver: (stream, payload, at, excludeIds) => hub.deliver(stream, payload, at, excludeIds),
    observed: (stream) => hub.observed(stream),
    call: (method, params) => adminNodeCall(admin, hub, method, params) ?? runForNode(hub, method, params),
    connections: (uid) => hub.members.uids.count(uid),
    uids: () => hub.members.uids.keys(),
    presence: (group, uid, joined, sent) => hub.presenceTransition(group, uid, joined, sent),
    joinLeave: (group) => hub.joinLeave(group),
    holdsMember: (group, uid) => hub.members.holdsMember(group, uid),
    members: () => hub.members.memberPairs((g) => hub.hasPresence(g)),
    signal: (stream, frame) => hub.signal(stream, frame),
  });
  if (engine.distributed) hub.metrics.registry.add(hub.metrics.redisConnected(() => (engine.connected ? 1 : 0)));
  const idempotency = new IdempotencyCache(config.idempotencyWindowMs, config.idempotencyMaxKeys);
  const api = new HttpApi(hub, idempotency);
  const client = new ClientBundle(log, metrics);
  const startedAt = Date.now();
  const server = Bun.serve<ConnData>({
    port: config.port,
    hostname: config.host,
    // --workers: every worker binds the same port; the kernel spreads connections among them.
    reusePort: config.workers > 1,
    // Bun answers 413 itself past this; below it the API answers its own JSON 413.
    maxRequestBodySize: config.apiMaxBody * 2 + 65536,
    websocket: {
      ...websocketHandler,
      maxPayloadLength: config.maxPayload,
      backpressureLimit: config.backpressureLimit,
      closeOnBackpressureLimit: true,
      idleTimeout: config.idleTimeout,
      sendPings: true,
      publishToSelf: true,
      perMessageDeflate: false,
    },
    fetch(req, srv) {
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") return upgrade(req, srv, hub);
      const path = pathOf(req.url);
      if (path.startsWith(API_PREFIX)) return api.handle(req, srv, path);
      if (path === "/healthz") return healthz(hub, startedAt);
      if (path === "/metrics") return metricsText(hub, req);
      if (isAdminPath(path)) return adminRoute(admin, hub, req, srv, path);
      if (path === "/client.js" || path === "/client.d.ts") return client.serve(path);
      hub.metrics.errors.incL(["E_NOT_FOUND"]);
      return errorResponse("E_NOT_FOUND", `no route ${path}; WebSocket clients connect with an Upgrade request`);
    },
    error(e) {
      log.error("http_error", { error: String(e) });
      hub.metrics.errors.incL(["E_INTERNAL"]);
      return errorResponse("E_INTERNAL", "internal error");
    },
  });
  hub.server = server;
  hub.expiry.start();
  hub.subExpiry.start();
  const idempotencySweep = setInterval(() => idempotency.sweep(), Math.min(60_000, config.idempotencyWindowMs));
  idempotencySweep.unref();
  const historySweep = startHistorySweeper(history, config.historyTtlMs, (stream) => hub.subscribed(stream));
  const timers = [startLoginSweeper(hub), historySweep, idempotencySweep];
  const port = server.port ?? config.port;
  log.info("listening", { host: config.host, port, auth: hub.auth.mode, nodeId: hub.nodeId });
  if (hub.auth.insecure) {
    log.warn("insecure_auth", { message: `auth mode "${hub.auth.mode}": any client can claim any uid; use signed tokens in production` });
  }

  let stopping: Promise<void> | null = null;
  // Events of the drain's closes are still sent or handed to Redis (bounded: AppEvents.stop).
  const shutdown = () => (stopping ??= drain(server, hub, timers).then(() => appEvents?.stop()).then(() => backend?.close?.()));
  return {
    server, hub, port, url: `http://${urlHost(config.host)}:${port}`,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** Starts a node, first building the authenticator the config asks for (jwt loads its key). */
export async function createPushgate(overrides: Partial<Config> = {}, opts: StartOptions = {}): Promise<Pushgate> {
  const config = defaultConfig(overrides);
  let auth = opts.auth;
  // Loaded only when used: the jwt and Redis modules cost an embedded uid-mode node ~3 MiB of
  // RSS otherwise (module code is memory too; docs/performance.md).
  if (!auth && config.auth === "uid") auth = uidAuthenticator;
  // (hook mode: startPushgate builds it, since it needs the node's metrics.)
  if (!auth && config.auth === "jwt") {
    const { authenticatorFor } = await import("./auth/from-config.ts");
    const built = await authenticatorFor(config);
    if (!built.ok) throw new Error(built.message, built.code === "E_NOT_FOUND" ? undefined : { cause: BAD_OPTION });
    auth = built.value;
  }
  if (config.redisUrl === null) return startPushgate(overrides, { ...opts, auth });
  const nodeId = nodeIdOf(opts);
  const log = opts.logger ?? createLogger(config.logLevel);
  // This node's own history: Redis holds the cluster's; this one serves while Redis is unreachable.
  const history = memoryHistory(config);
  const { connectRedisEngine } = await import("./engine/redis/connect.ts");
  const engine = await connectRedisEngine(config, nodeId, log, history);
  return startPushgate(overrides, { ...opts, auth, nodeId, logger: log, engine: { engine, history } });
}

/** --channel-rules, read and checked at start (an exact start error names the file). */
function loadChannelRules(config: Config, hasBackend: boolean, hasJwt: boolean): ChannelRules | null {
  const path = config.channelRules;
  if (path === null) return null;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read --channel-rules ${path}: ${(e as Error).message}`);
  }
  const rules = parseChannelRules(text);
  const bad = { cause: BAD_OPTION };
  if (!rules.ok) throw new Error(`invalid --channel-rules ${path}: ${rules.message}`, bad);
  if (rules.value.needsBackend && !hasBackend) throw new Error(`--channel-rules ${path} has "subscribe": "hook" rules: they need --hook-url (or an in-process subscribe hook)`, bad);
  if (rules.value.needsTokens && !hasJwt) throw new Error(`--channel-rules ${path} has "subscribe": "token" rules: they need --auth jwt (channel tokens are checked with the server's JWT key)`, bad);
  return rules.value;
}

function memoryHistory(config: Config): MemoryHistoryStore {
  return new MemoryHistoryStore({ size: config.historySize, ttlMs: config.historyTtlMs, maxBytes: config.historyMaxBytes });
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  return q === -1 ? url.slice(start) : url.slice(start, q);
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
