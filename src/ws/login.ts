// Login shared by both wire formats: run the authenticator (sync or async), then bind the uid,
// join the identity's groups and schedule token expiry (expiry.ts).
import type { Identity, LoginContext } from "../auth/types.ts";
import { clientIdOf } from "../core/client-table.ts";
import type { Conn, ConnData } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import { validateGroup, validateUid } from "../core/names.ts";
import type { Result } from "../core/result.ts";
import { closeWithError } from "./error-frames.ts";

/**
 * Authenticates `credential` and calls `then` with the result — synchronously when the
 * authenticator is, else when its promise settles and only if the socket is still open. While an
 * asynchronous login decides, `authenticating` is set; the login timeout keeps running. A throwing
 * or rejecting authenticator closes the socket with 1011.
 */
/** Handed to authenticators that do not ask for the request (uid, jwt): nothing built per login. */
const NO_CONTEXT: LoginContext = Object.freeze({ clientId: "", protocol: "seed", ip: "", headers: Object.freeze({}) });

function contextOf(d: ConnData): LoginContext {
  return { clientId: clientIdOf(d), protocol: d.v1 ? "v1" : "seed", ip: d.hook?.ip ?? "", headers: d.hook?.headers ?? {} };
}

export function authenticate<C>(
  ws: Conn, credential: string, context: C, then: (ws: Conn, r: Result<Identity>, context: C) => void,
): void {
  const d = ws.data;
  let result: Result<Identity> | Promise<Result<Identity>>;
  try {
    result = d.hub.auth.authenticate(credential, d.hub.auth.wantsRequest ? contextOf(d) : NO_CONTEXT);
  } catch (e) {
    return authFailed(ws, e);
  }
  if (!(result instanceof Promise)) return settle(ws, result, context, then);
  d.authenticating = true;
  result.then(
    (r) => {
      d.authenticating = false;
      if (ws.readyState === 1) settle(ws, r, context, then);
    },
    (e) => {
      d.authenticating = false;
      authFailed(ws, e);
    },
  );
}

function settle<C>(ws: Conn, r: unknown, context: C, then: (ws: Conn, r: Result<Identity>, context: C) => void): void {
  if (r === null || typeof r !== "object" || typeof (r as { ok?: unknown }).ok !== "boolean") {
    return authFailed(ws, new Error("authenticator returned no Result"));
  }
  try {
    then(ws, r as Result<Identity>, context);
  } catch (e) {
    authFailed(ws, e);
  }
}

function authFailed(ws: Conn, e: unknown): void {
  ws.data.hub.log.error("auth_error", { clientId: clientIdOf(ws.data), error: String(e) });
  if (ws.readyState === 1) closeWithError(ws, CloseCode.INTERNAL_ERROR, "E_INTERNAL", "authentication failed");
}

/**
 * --max-connections-per-uid across the nodes: when the engine must first reserve the uid a place
 * (Redis), the login waits for it (authenticating set) and is closed with 1008 at the limit.
 * `then` gets `done`, to call once it has bound the uid or failed (the reservation then becomes
 * the bound connection, or is returned).
 */
export function admitLogin(ws: Conn, result: Result<Identity>, then: (done: () => void) => void): void {
  const engine = ws.data.hub.engine;
  const admitting = result.ok ? engine.admitUid(result.value.uid) : null;
  if (admitting === null) return then(noop);
  const uid = result.ok ? result.value.uid : "";
  const d = ws.data;
  let once = false;
  const done = () => {
    if (once) return;
    once = true;
    engine.admitted(uid);
  };
  d.authenticating = true;
  void admitting.then((admitted) => {
    d.authenticating = false;
    if (ws.readyState !== 1) return done();
    if (!admitted) {
      done();
      d.hub.metrics.limitsExceeded.incL(["max_connections_per_uid"]);
      return closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_UID_CONNECTION_LIMIT", `uid already has ${d.hub.config.maxConnectionsPerUid} connection${d.hub.config.maxConnectionsPerUid === 1 ? "" : "s"} across the cluster (--max-connections-per-uid)`);
    }
    try {
      then(done);
    } catch (e) {
      done();
      authFailed(ws, e);
    }
  });
}

const noop = () => {};

/** Binds the identity to the connection; on failure the socket is closed with 1008. */
export function completeLogin(ws: Conn, result: Result<Identity>): result is { ok: true; value: Identity } {
  const hub = ws.data.hub;
  if (!result.ok) {
    // The backend could not decide (hook mode): not the client's fault, try again later.
    const busy = result.code === "E_BACKEND_UNAVAILABLE" || result.code === "E_BACKEND_TIMEOUT";
    closeWithError(ws, busy ? CloseCode.TRY_AGAIN_LATER : CloseCode.POLICY_VIOLATION, result.code, result.message);
    return false;
  }
  const id = result.value;
  // A session from the backend (hook mode) is bounded like setSession's.
  let sessionBytes = 0;
  if (id.session !== undefined) {
    sessionBytes = Buffer.byteLength(JSON.stringify(id.session));
    if (sessionBytes > hub.config.maxSessionBytes) {
      hub.metrics.limitsExceeded.incL(["max_session_bytes"]);
      closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_SESSION_TOO_LARGE", `the login's session is ${sessionBytes} bytes as JSON, over --max-session-bytes`);
      return false;
    }
  }
  // A custom authenticator's identity crosses the same trust boundary as client input.
  const problem = hub.auth.validated ? null : identityProblem(id);
  if (problem !== null) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_AUTH_FAILED", problem);
    return false;
  }
  if (id.expiresAt !== undefined && id.expiresAt <= Date.now()) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_TOKEN_EXPIRED", "token expired");
    return false;
  }
  const bound = hub.members.bindUid(ws, id.uid);
  if (!bound.ok) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, bound.code, bound.message);
    return false;
  }
  for (const g of id.groups ?? []) {
    const joined = hub.members.joinGroup(ws, g);
    if (!joined.ok) {
      hub.metrics.errors.incL([joined.code]);
      hub.log.warn("identity_groups_skipped", { clientId: clientIdOf(ws.data), uid: id.uid, group: g, reason: joined.message });
      break;
    }
  }
  if (id.session !== undefined) ws.data.session = { data: id.session, bytes: sessionBytes, keys: Object.keys(id.session).length };
  hub.expiry.schedule(ws, id.expiresAt ?? 0);
  hub.events?.loggedIn(ws);
  return true;
}

function identityProblem(id: Identity): string | null {
  if (!validateUid(id.uid).ok) return "identity has an invalid uid";
  if ((id.groups ?? []).some((g) => !validateGroup(g).ok)) return "identity has an invalid group";
  return null;
}
