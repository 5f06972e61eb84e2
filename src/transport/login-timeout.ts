// One sweep over not-yet-logged-in sockets instead of a timer per connection.
import { CloseCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { closeWithError } from "../protocol/frames.ts";

export function startLoginSweeper(hub: Hub): Timer {
  const every = Math.min(1000, Math.max(25, Math.floor(hub.config.loginTimeoutMs / 4)));
  const timer = setInterval(() => {
    const now = performance.now();
    for (const ws of hub.pending) {
      const deadline = ws.data.loginDeadline;
      if (deadline <= now) {
        hub.pending.delete(ws);
        closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_LOGIN_TIMEOUT", `no login within ${hub.config.loginTimeoutMs} ms`);
      }
    }
  }, every);
  timer.unref();
  return timer;
}
