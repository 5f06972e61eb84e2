// Login shared by both wire formats: run the authenticator (sync or async), then bind the uid,
// join the identity's groups and schedule token expiry.
import type { Identity } from "../auth/types.ts";
import { CloseCode } from "../core/errors.ts";
import type { Result } from "../core/result.ts";
import type { Conn } from "../transport/conn-data.ts";
import { closeWithError } from "./frames.ts";

/** loginDeadline value while an asynchronous authenticator is deciding. */
export const AUTHENTICATING = -1;

/**
 * Authenticates `credential` and calls `then` with the result — synchronously when the
 * authenticator is, else when its promise settles and only if the socket is still open.
 */
export function authenticate<C>(
  ws: Conn, credential: string, context: C, then: (ws: Conn, r: Result<Identity>, context: C) => void,
): void {
  const result = ws.data.hub.auth.authenticate(credential);
  if (!(result instanceof Promise)) {
    then(ws, result, context);
    return;
  }
  const d = ws.data;
  const deadline = d.loginDeadline;
  if (!d.loggedIn) d.loginDeadline = AUTHENTICATING;
  result.then(
    (r) => {
      if (ws.readyState !== 1) return;
      if (!d.loggedIn) d.loginDeadline = deadline;
      then(ws, r, context);
    },
    (e) => {
      d.hub.log.error("auth_error", { clientId: d.clientId, error: String(e) });
      if (ws.readyState === 1) closeWithError(ws, CloseCode.INTERNAL_ERROR, "E_INTERNAL", "authentication failed");
    },
  );
}

/** Binds the identity to the connection; on failure the socket is closed with 1008. */
export function completeLogin(ws: Conn, result: Result<Identity>): result is { ok: true; value: Identity } {
  const hub = ws.data.hub;
  if (!result.ok) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, result.code, result.message);
    return false;
  }
  const id = result.value;
  if (id.expiresAt !== undefined && id.expiresAt <= Date.now()) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_TOKEN_EXPIRED", "token expired");
    return false;
  }
  const bound = hub.bindUid(ws, id.uid);
  if (!bound.ok) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, bound.code, bound.message);
    return false;
  }
  for (const g of id.groups ?? []) hub.joinGroup(ws, g);
  hub.expiry.schedule(ws, id.expiresAt ?? 0);
  return true;
}

