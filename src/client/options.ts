// Validates PushgateClientOptions and fills in the defaults.

import type { PositionMap, PushgateClientOptions, ReconnectOptions, TokenSource } from "./types.ts";

export interface ResolvedOptions {
  url: string;
  token: TokenSource | undefined;
  uid: string | undefined;
  WebSocket: typeof WebSocket;
  reconnect: ReconnectOptions;
  refreshBeforeMs: number;
  sendTimeoutMs: number;
  connectTimeoutMs: number;
  positions: PositionMap | undefined;
}

export function resolveOptions(o: PushgateClientOptions): ResolvedOptions {
  if (!o || typeof o.url !== "string" || o.url === "") throw new TypeError("PushgateClient: `url` is required");
  if (o.token === undefined && o.uid === undefined) {
    throw new TypeError("PushgateClient: give `token` (jwt mode) or `uid` (uid mode)");
  }
  if (o.token !== undefined && typeof o.token !== "string" && typeof o.token !== "function") {
    throw new TypeError("PushgateClient: `token` must be a string or a function returning one");
  }
  const WS = o.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (typeof WS !== "function") throw new TypeError("PushgateClient: no global WebSocket; pass the `WebSocket` option");
  return {
    url: o.url,
    token: o.token,
    uid: o.uid,
    WebSocket: WS,
    reconnect: o.reconnect ?? {},
    refreshBeforeMs: positive(o.refreshBeforeMs, 30_000),
    sendTimeoutMs: positive(o.sendTimeoutMs, 10_000),
    connectTimeoutMs: positive(o.connectTimeoutMs, 10_000),
    positions: o.positions,
  };
}

function positive(v: number | undefined, fallback: number): number {
  return typeof v === "number" && v > 0 ? v : fallback;
}
