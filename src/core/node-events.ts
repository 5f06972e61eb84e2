// What a node tells the application about its connections (webhooks and in-process hooks,
// hooks/app-events.ts): called synchronously on the hot path of a login, a close and a push, so
// an implementation only queues. None by default.
import type { Payload } from "../history/types.ts";
import type { Conn } from "./conn-data.ts";

export interface NodeEvents {
  /** A connection was accepted (before its login). Optional: only /admin's event ring records it. */
  opened?(ws: Conn): void;
  /** A connection logged in (its uid is bound). */
  loggedIn(ws: Conn): void;
  /** A connection closed (called before its membership is dropped: its uid is still there). */
  closed(ws: Conn, code: number, reason: string): void;
  /** This node's connections of `uid` went from 0 to 1 (`n` = 1) or to 0. */
  uidConnections(uid: string, n: number): void;
  /** Whether undelivered() is wanted (a client push then asks every node for its count). */
  readonly wantsUndelivered: boolean;
  /** A client's push to `to` (a uid) reached no connection anywhere (known, not a guess). */
  undelivered(ws: Conn, to: string, payload: Payload): void;
}
