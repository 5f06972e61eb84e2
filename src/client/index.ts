// pushgate.v1 client SDK entry: bundled by the server into one ESM file served at /client.js.
// Runs in browsers and Bun; depends on nothing but the global WebSocket and timers.

export { PushgateClient } from "./client.ts";
export { SUBPROTOCOL } from "./socket.ts";
export { ClientErrorCode, PushgateError } from "./errors.ts";
export { Subscription } from "./subscription.ts";
export type { SubscribeOptions, SubscribeResult, SubscriptionEvents } from "./subscription.ts";
export type {
  ConnectionState, DisconnectInfo, ErrorBody, ErrorFrame, GapInfo, PongFrame, Position, PositionMap,
  PushFrame, PushgateClientOptions, PushgateEvents, PushMeta, ReconnectOptions, RecoveryFrame,
  RecoveryStream, RefreshedFrame, ReplyFrame, SendResult, ServerFrame, StreamState, TokenSource,
  PresenceFrame, UnsubscribedFrame, WelcomeFrame,
} from "./types.ts";
