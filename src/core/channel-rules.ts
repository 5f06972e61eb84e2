// Which groups a pushgate.v1 client may subscribe to itself, how that is authorized, and which
// groups have presence (--channel-rules, a JSON file; docs/protocol.md "Subscriptions"). Rules are tried in order, the
// first whose pattern matches the group decides; a group no rule matches cannot be subscribed
// (nor unsubscribed) by a client — groups given at login or by the API stay the backend's.
// A pattern is the group name with `*` standing for any run of characters ("room-*", "*").
import { type Result, err, ok } from "./result.ts";

export type SubscribeAuth = "public" | "hook" | "token";

export interface ChannelRule {
  match: string;
  /** Clients may not subscribe themselves when absent (the rule is for presence only). */
  /**
   * public: any logged-in connection; hook: the backend decides (a `subscribe` hook request);
   * token: a channel token (a JWT signed with the server's key naming the uid and the group).
   */
  subscribe: SubscribeAuth | null;
  /** Track who is in the group (getPresence) and tell its pushgate.v1 members `presence` join/leave frames. */
  presence: boolean;
  /** With presence: send join/leave frames (off for very large groups; getPresence still works). */
  joinLeave: boolean;
}

const AUTHS: readonly string[] = ["public", "hook", "token"];
const MAX_RULES = 1000;
const MAX_PATTERN = 256;

export class ChannelRules {
  constructor(readonly rules: readonly ChannelRule[]) {}

  /** The rule deciding `group`, or null (clients may not subscribe to it). O(rules × name × pattern) at worst. */
  match(group: string): ChannelRule | null {
    for (const r of this.rules) if (wildcardMatch(r.match, group)) return r;
    return null;
  }

  /** Whether any rule needs the backend (the config must then name one). */
  get needsBackend(): boolean {
    return this.rules.some((r) => r.subscribe === "hook");
  }

  /** Whether any rule needs channel tokens (the server's JWT key: --auth jwt). */
  get needsTokens(): boolean {
    return this.rules.some((r) => r.subscribe === "token");
  }
}

/**
 * `*` matches any run of characters. Linear two-pointer matching with one backtrack point (the
 * last star): never exponential, unlike a regex of `.*`s on a name that almost matches.
 */
export function wildcardMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern.charCodeAt(p) !== 42 && pattern.charCodeAt(p) === name.charCodeAt(n)) {
      p++;
      n++;
    } else if (p < pattern.length && pattern.charCodeAt(p) === 42) {
      star = p++;
      mark = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** The rules file's text → rules, or why not (the start error names the file). */
export function parseChannelRules(text: string): Result<ChannelRules> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return err("E_BAD_PARAMS", `not JSON: ${(e as Error).message}`);
  }
  const list = (value as { channels?: unknown } | null)?.channels;
  if (value === null || typeof value !== "object" || !Array.isArray(list)) {
    return err("E_BAD_PARAMS", 'expected {"channels": [{"match": "room-*", "subscribe": "public" | "hook" | "token"}, …]}');
  }
  if (list.length > MAX_RULES) return err("E_BAD_PARAMS", `more than ${MAX_RULES} rules`);
  const rules: ChannelRule[] = [];
  for (const [i, r] of list.entries()) {
    const at = `channels[${i}]`;
    if (r === null || typeof r !== "object" || Array.isArray(r)) return err("E_BAD_PARAMS", `${at} must be an object`);
    const { match, subscribe, presence, joinLeave, ...rest } = r as Record<string, unknown>;
    if (typeof match !== "string" || match.length === 0 || match.length > MAX_PATTERN) {
      return err("E_BAD_PARAMS", `${at}.match must be a pattern of 1..${MAX_PATTERN} characters`);
    }
    if (subscribe !== undefined && (typeof subscribe !== "string" || !AUTHS.includes(subscribe))) {
      return err("E_BAD_PARAMS", `${at}.subscribe must be one of ${AUTHS.join(", ")} (or absent: clients may not subscribe)`);
    }
    if (presence !== undefined && typeof presence !== "boolean") return err("E_BAD_PARAMS", `${at}.presence must be true or false`);
    if (joinLeave !== undefined && typeof joinLeave !== "boolean") return err("E_BAD_PARAMS", `${at}.joinLeave must be true or false`);
    if (subscribe === undefined && presence !== true) return err("E_BAD_PARAMS", `${at} needs "subscribe" or "presence": true`);
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) return err("E_BAD_PARAMS", `${at}: unknown field ${JSON.stringify(unknown)}`);
    rules.push({ match, subscribe: (subscribe as SubscribeAuth | undefined) ?? null, presence: presence === true, joinLeave: joinLeave !== false });
  }
  return ok(new ChannelRules(rules));
}
