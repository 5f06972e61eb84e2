// What a node tells the application about its connections (the webhooks, hooks/webhooks.ts):
// called synchronously on the hot path of a login and a close, so an implementation only
// queues. None by default.
import type { Conn } from "./conn-data.ts";

export interface NodeEvents {
  /** A connection logged in (its uid is bound). */
  loggedIn(ws: Conn): void;
  /** A connection closed (called before its membership is dropped: its uid is still there). */
  closed(ws: Conn, code: number, reason: string): void;
  /** This node's connections of `uid` went from 0 to 1 (`n` = 1) or to 0. */
  uidConnections(uid: string, n: number): void;
}
