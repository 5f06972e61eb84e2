// Per-connection state, kept in typed ws.data (no closures per connection). Fields are plain
// and few: this object is most of pushgate's memory per idle connection.
import type { ServerWebSocket } from "bun";
import type { Hub } from "../core/hub.ts";

export interface ConnData {
  readonly hub: Hub;
  readonly clientId: string;
  uid: string | null;
  loggedIn: boolean;
  /** performance.now() deadline for the first (login) frame. */
  loginDeadline: number;
  /** Allocated on first joinGroup only. */
  groups: Set<string> | null;
  session: Record<string, unknown> | null;
  /** Token bucket state (see rate-limit.ts). */
  tokens: number;
  refilledAt: number;
  rateDrops: number;
  rateLimited: boolean;
}

export type Conn = ServerWebSocket<ConnData>;
