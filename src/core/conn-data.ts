// Per-connection state, kept in typed ws.data (no closures per connection). Fields are plain
// and few: this object is most of pushgate's memory per idle connection.
import type { ServerWebSocket } from "bun";
import type { Identity } from "../auth/types.ts";
import type { Hub } from "./hub.ts";

export interface ConnData {
  readonly hub: Hub;
  /** Slot and use count in hub.clients; the clientId string is clientIdOf(data) (not stored). */
  cid: number;
  /** Wire format: false = seed text protocol, true = pushgate.v1 JSON. */
  readonly v1: boolean;
  uid: string | null;
  loggedIn: boolean;
  /** performance.now() deadline for the login frame. */
  loginDeadline: number;
  /** An asynchronous authenticator is deciding (login or refresh). */
  authenticating: boolean;
  /** Identity from a token on the upgrade URL, used at login. */
  preauth: Identity | null;
  /** Backend hooks' state, allocated only when used (one field: most connections never need it). */
  hook: HookState | null;
  /** Token expiry, ms since epoch (0 = none), and its bucket in the expiry wheel. */
  expiresAt: number;
  /** Allocated on first joinGroup only. */
  groups: Set<string> | null;
  /** Its own subscriptions' state (pushgate.v1 `subscribe`), allocated by the first subscribe. */
  subs: SubsState | null;
  /** Allocated by the first setSession/updateSession only; `bytes`/`keys` size its JSON without stringifying it. */
  session: Session | null;
  /** Token bucket state (see ws/rate-limit.ts). */
  tokens: number;
  refilledAt: number;
  rateDrops: number;
  rateLimited: boolean;
  badFrames: number;
}

export interface HookState {
  /** The upgrade request's address and the headers --hook-headers names (kept for an --auth hook login). */
  ip: string;
  headers: Record<string, string>;
  /** --seed-messages backend: the last message being asked, and how many wait (one at a time, in order). */
  tail: Promise<void> | null;
  waiting: number;
}

export interface SubsState {
  /** The `subscribe` in flight per group (the backend, a token check, or the engine's hold). */
  pending: Map<string, object>;
  /** Channel-token subscriptions by group: when each ends (ws/subscription-expiry.ts). */
  expiry: Map<string, { exp: number }> | null;
}

export interface Session {
  data: Record<string, unknown>;
  /** Bytes of JSON.stringify(data), kept up to date by updateSession. */
  bytes: number;
  keys: number;
}

export type Conn = ServerWebSocket<ConnData>;

/** The state of a socket being accepted (at upgrade): not logged in, a full rate bucket. */
export function newConnData(hub: Hub, v1: boolean): ConnData {
  const now = performance.now();
  return {
    hub, cid: 0, v1, uid: null, loggedIn: false,
    loginDeadline: now + hub.config.loginTimeoutMs, authenticating: false, preauth: null, hook: null, expiresAt: 0,
    groups: null, subs: null, session: null, tokens: hub.config.rateBurst, refilledAt: now,
    rateDrops: 0, rateLimited: false, badFrames: 0,
  };
}
