// Public types of the pushgate.v1 client SDK: options, wire frames, event signatures.
// Frame shapes follow docs/protocol.md ("JSON protocol (pushgate.v1)").

import type { PushgateError } from "./errors.ts";

/** A stream position: offsets are comparable only within one epoch; offset 0 = no message yet. */
export interface Position {
  epoch: string;
  offset: number;
}

/** `{ "<stream>": { epoch, offset } }`, e.g. `{ "uid:42": { epoch: "k3f9a1c0", offset: 17 } }`. */
export type PositionMap = Record<string, Position>;

export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** Base delay of the backoff, ms (default 250). */
  minDelayMs?: number;
  /** Cap of the backoff, ms (default 10 000). */
  maxDelayMs?: number;
  /** Consecutive failed reconnects before giving up (default Infinity). */
  maxAttempts?: number;
}

export interface PushgateClientOptions {
  /** The server's WebSocket URL, e.g. `ws://host:1234/`. */
  url: string;
  /** jwt mode: a token, or a callback called for every (re)connect and refresh. */
  token?: TokenSource;
  /** uid mode: the uid to claim. */
  uid?: string;
  reconnect?: ReconnectOptions;
  /** Refresh the token this long before `exp`, and never later than half its remaining life (default 30 000). */
  refreshBeforeMs?: number;
  /** send() rejects with E_TIMEOUT after this long without a reply (default 10 000). */
  sendTimeoutMs?: number;
  /** A socket that has no `welcome` this long after it was created is dropped and retried (default 10 000). */
  connectTimeoutMs?: number;
  /** Positions to recover from on the first connect (e.g. a snapshot saved by positions()). */
  positions?: PositionMap;
  /** The WebSocket constructor (default: the global one). */
  WebSocket?: typeof WebSocket;
}

export interface StreamState extends Position {
  stream: string;
}

export interface WelcomeFrame {
  type: "welcome";
  clientId: string;
  uid: string;
  streams: StreamState[];
  /** Token expiry, seconds since epoch (jwt mode only). */
  exp?: number;
}

export interface PushFrame {
  type: "push";
  stream?: string;
  epoch?: string;
  offset?: number;
  ts?: number;
  data: unknown;
}

export interface RecoveryStream extends StreamState {
  recovered: boolean;
  replayed: number;
  reason?: "gap" | "epoch" | "limit" | (string & {});
}

export interface RecoveryFrame {
  type: "recovery";
  complete: boolean;
  streams: RecoveryStream[];
}

export interface ErrorBody {
  code: string;
  message: string;
}

export interface ReplyFrame {
  type: "reply";
  id: number | string;
  delivered?: number;
  error?: ErrorBody;
}

export interface RefreshedFrame {
  type: "refreshed";
  exp: number;
}

export interface ErrorFrame extends ErrorBody {
  type: "error";
  id?: number | string;
}

export interface PongFrame {
  type: "pong";
  id?: number | string;
}

/** A uid joined or left a group with presence (its first connection in it / its last one gone). */
export interface PresenceFrame {
  type: "presence";
  group: string;
  event: "join" | "leave";
  uid: string;
}

/** A subscription the server ended (its channel token expired). */
export interface UnsubscribedFrame {
  type: "unsubscribed";
  group: string;
  code: string;
  message: string;
}

export type ServerFrame = WelcomeFrame | PushFrame | RecoveryFrame | ReplyFrame | RefreshedFrame | ErrorFrame | PongFrame | UnsubscribedFrame | PresenceFrame;

/**
 * What a `message` listener learns besides the data. Absent fields: the push belongs to no
 * stream (sendToClient). It is the push frame itself, passed on without copying.
 */
export interface PushMeta {
  readonly stream?: string;
  readonly epoch?: string;
  readonly offset?: number;
  readonly ts?: number;
}

export interface SendResult {
  /** Connections the message reached. */
  readonly delivered: number;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
}

export interface GapInfo {
  stream: string;
  /** "gap" (history trimmed), "epoch" (history lost, or a position ahead of the stream) or "limit" (more to replay than the server's --max-recover-messages). */
  reason: string;
}

/** idle: before connect(); connecting: token / socket being opened; authenticating: auth sent;
 * connected: welcome received; reconnecting: waiting out the backoff; closed: stopped. */
export type ConnectionState = "idle" | "connecting" | "authenticating" | "connected" | "reconnecting" | "closed";

/** Listener signatures per event name. */
export interface PushgateEvents {
  message: (data: unknown, meta: PushMeta) => void;
  connected: (welcome: WelcomeFrame) => void;
  /** A welcomed connection was lost (once per loss: failed reconnect attempts after it are not told again). */
  disconnected: (info: DisconnectInfo) => void;
  recovered: (recovery: RecoveryFrame) => void;
  gap: (info: GapInfo) => void;
  /** A uid joined or left a group with presence that this connection is in. */
  presence: (p: PresenceFrame) => void;
  /** Server error frames without a pending send, refused tokens, giving up, protocol trouble. */
  error: (err: PushgateError) => void;
}
