// Config from defaults < PUSHGATE_* env vars < CLI flags. Any bad or conflicting value fails
// start with an exact message naming the flag and the env var.
import type { Config } from "./types.ts";
import { OPTIONS, type OptionSpec } from "./spec.ts";

export type ConfigResult =
  | { ok: true; config: Config }
  | { ok: false; help: true }
  | { ok: false; help?: false; error: string };

type Env = Record<string, string | undefined>;

/** String options whose empty value means "unset". */
const NULLABLE = ["apiKey", "jwtSecret", "jwtPublicKey", "jwtIssuer", "jwtAudience", "redisUrl", "hookUrl", "webhookUrl", "webhookSecret", "channelRules"] as const;

function apply(target: Record<string, unknown>, spec: OptionSpec, raw: string, source: string): string | null {
  const parsed = spec.parse(raw);
  if ("problem" in parsed) return `invalid value for ${source}: ${JSON.stringify(raw)} ${parsed.problem}`;
  target[spec.key] = parsed.value;
  return null;
}

function defaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const parsed = spec.parse(spec.default);
    out[spec.key] = "value" in parsed ? parsed.value : undefined;
  }
  for (const key of NULLABLE) out[key] = null;
  return out;
}

export function parseConfig(argv: readonly string[], env: Env = {}): ConfigResult {
  const out = defaults();
  for (const spec of OPTIONS) {
    const raw = env[spec.env];
    if (raw === undefined || raw === "") continue;
    const problem = apply(out, spec, raw, spec.env);
    if (problem) return { ok: false, error: problem };
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { ok: false, help: true };
    const eq = arg.indexOf("=");
    let name = eq === -1 ? arg : arg.slice(0, eq);
    let raw: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = OPTIONS.find((o) => o.flag === name);
    if (!spec && name.startsWith("--no-") && raw === undefined) {
      spec = OPTIONS.find((o) => o.flag === "--" + name.slice(5) && o.kind === "boolean");
      if (spec) { name = spec.flag; raw = "false"; }
    }
    if (!spec) return { ok: false, error: `unknown option ${name} (see --help)` };
    if (raw === undefined) {
      const next = argv[i + 1];
      if (spec.kind === "boolean" && (next === undefined || next.startsWith("--"))) raw = "true";
      else if (next === undefined) return { ok: false, error: `missing value for ${name}` };
      else { raw = next; i++; }
    }
    const problem = apply(out, spec, raw, name);
    if (problem) return { ok: false, error: problem };
  }
  for (const key of NULLABLE) if (out[key] === "") out[key] = null;
  const config = out as unknown as Config;
  const conflict = checkConflicts(config);
  if (conflict) return { ok: false, error: conflict };
  return { ok: true, config };
}

/** Options that are valid alone but not together. */
/** The webhook events there are (hooks/webhooks.ts). */
export const WEBHOOK_EVENTS: readonly string[] = ["connection.open", "connection.close", "user.online", "user.offline", "message.undelivered"];

/** `hasHooks`: in-process hooks were given (createPushgate's `hooks`), which stand for --hook-url. */
export function checkConflicts(c: Config, hasHooks = false): string | null {
  if (c.rateLimit > 0 && c.rateBurst < 1) {
    return "conflicting options: --rate-burst (PUSHGATE_RATE_BURST) must be at least 1 when --rate-limit is above 0";
  }
  if (c.idleTimeout > 0 && c.idleTimeout < 8) {
    return "invalid value for --idle-timeout (PUSHGATE_IDLE_TIMEOUT): Bun's minimum is 8 seconds (0 disables)";
  }
  if (c.maxConnectionsPerUid > c.maxConnections) {
    return "conflicting options: --max-connections-per-uid (PUSHGATE_MAX_CONNECTIONS_PER_UID) is above --max-connections (PUSHGATE_MAX_CONNECTIONS)";
  }
  const keys = Number(c.jwtSecret !== null) + Number(c.jwtPublicKey !== null);
  if (c.auth === "jwt" && keys !== 1) {
    return "conflicting options: --auth jwt needs exactly one of --jwt-secret (PUSHGATE_JWT_SECRET) or --jwt-public-key (PUSHGATE_JWT_PUBLIC_KEY)";
  }
  if (c.auth !== "jwt" && (keys > 0 || c.jwtIssuer !== null || c.jwtAudience !== null)) {
    return "conflicting options: --jwt-* options need --auth jwt (PUSHGATE_AUTH=jwt)";
  }
  if (c.auth === "hook" && c.hookUrl === null && !hasHooks) {
    return "conflicting options: --auth hook needs --hook-url (PUSHGATE_HOOK_URL): the backend that decides each login";
  }
  if (c.seedMessages === "backend" && c.hookUrl === null && !hasHooks) {
    return "conflicting options: --seed-messages backend needs --hook-url (PUSHGATE_HOOK_URL): the backend that gets the messages";
  }
  if (c.webhookUrl !== null && !/^https?:\/\//.test(c.webhookUrl)) {
    return "invalid value for --webhook-url (PUSHGATE_WEBHOOK_URL): must be an http:// or https:// URL";
  }
  if (c.webhookUrl !== null && (c.webhookSecret === null || c.webhookSecret.length < 16)) {
    return "conflicting options: --webhook-url needs --webhook-secret (PUSHGATE_WEBHOOK_SECRET) of at least 16 characters: the receiver must be able to tell pushgate's POSTs from anyone's";
  }
  const unknownEvent = c.webhookEvents.split(",").map((e) => e.trim()).find((e) => e !== "" && !WEBHOOK_EVENTS.includes(e));
  if (unknownEvent !== undefined) {
    return `invalid value for --webhook-events (PUSHGATE_WEBHOOK_EVENTS): unknown event ${JSON.stringify(unknownEvent)} (known: ${WEBHOOK_EVENTS.join(", ")})`;
  }
  if (c.hookUrl !== null && !/^https?:\/\//.test(c.hookUrl)) {
    return "invalid value for --hook-url (PUSHGATE_HOOK_URL): must be an http:// or https:// URL";
  }
  if (c.workers > 1 && c.redisUrl === null) {
    return "conflicting options: --workers above 1 needs --redis (PUSHGATE_REDIS_URL): workers are separate processes and only meet through Redis";
  }
  if (c.redisUrl !== null) {
    const urls = c.redisUrl.split(",").map((u) => u.trim());
    if (urls.some((u) => !/^rediss?:\/\//.test(u))) {
      return "invalid value for --redis (PUSHGATE_REDIS_URL): must be a redis:// or rediss:// URL, or several separated by commas (one per shard)";
    }
    if (new Set(urls).size !== urls.length) return "invalid value for --redis (PUSHGATE_REDIS_URL): a shard is listed twice";
    if (urls.length > 64) return "invalid value for --redis (PUSHGATE_REDIS_URL): at most 64 shards";
  }
  if (c.maxPayload > c.backpressureLimit) {
    return "conflicting options: --max-payload (PUSHGATE_MAX_PAYLOAD) is above --backpressure-limit (PUSHGATE_BACKPRESSURE_LIMIT): one echoed frame would close its reader";
  }
  return null;
}

/** Defaults with `overrides` on top; undefined overrides are ignored, empty strings unset. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const out = defaults();
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  for (const key of NULLABLE) if (typeof out[key] === "string" && (out[key] as string).trim() === "") out[key] = null;
  return out as unknown as Config;
}

/** `invocation`: how the program was started (src/process/self.ts): a binary's name, or `bun run start`. */
export function helpText(invocation = "bun run start"): string {
  const usage = invocation === "bun run start"
    ? "Usage: bun run start [options]      (or: bun src/main.ts [options])"
    : `Usage: ${invocation} [options]`;
  const lines = [
    "pushgate — WebSocket push server (Bun)",
    "",
    usage,
    "",
    "Every option can also be set with its PUSHGATE_* environment variable; flags win.",
    "Sizes take B, KB/MB/GB or KiB/MiB/GiB; durations ms/s/m/h. Booleans: --flag, --no-flag, --flag=false.",
    "",
  ];
  for (const o of OPTIONS) {
    lines.push(`  ${o.flag.padEnd(28)} ${o.env}  (default: ${o.default === "" ? "unset" : o.default})`);
    lines.push(`      ${o.help}`);
  }
  lines.push("", "  --help                       Show this text.");
  return lines.join("\n");
}
