// One sweep over not-yet-logged-in sockets instead of a timer per connection.
import { CloseCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { closeWithError } from "./error-frames.ts";

/** Closes sockets past their login deadline (--login-timeout), checked a few times per timeout. */
export function startLoginSweeper(hub: Hub): Timer {
  const every = Math.min(1000, Math.max(25, Math.floor(hub.config.loginTimeoutMs / 4)));
  const timer = setInterval(() => {
    const now = performance.now();
    const pending = hub.members.pending;
    for (const ws of pending) {
      const deadline = ws.data.loginDeadline;
      if (deadline <= now) {
        pending.delete(ws);
        closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_LOGIN_TIMEOUT", `no login within ${hub.config.loginTimeoutMs} ms`);
      }
    }
  }, every);
  timer.unref();
  return timer;
}
