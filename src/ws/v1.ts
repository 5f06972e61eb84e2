// The pushgate.v1 dispatcher (JSON frames, docs/protocol.md): auth → welcome (+ recovery),
// send → reply, ping → pong, refresh → refreshed. Garbage gets an error frame; repeated garbage
// a 1008 close.
import type { Identity } from "../auth/types.ts";
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import type { Result } from "../core/result.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import type { LoginView } from "../engine/types.ts";
import type { StreamPosition } from "../history/types.ts";
import { admit } from "./admit.ts";
import { badFrame, closeWithError, sendError } from "./error-frames.ts";
import { admitLogin, authenticate, completeLogin } from "./login.ts";
import { onRpc } from "./v1-rpc.ts";
import { onSubscribe, onUnsubscribe } from "./v1-subscribe.ts";
import { type Frame, parseFrame, parseRecover } from "./v1-frames.ts";
import { onClientSend, replyError } from "./v1-send.ts";
import { sendWelcome } from "./v1-welcome.ts";

export function onV1Message(ws: Conn, message: string | Buffer): void {
  if (!admit(ws, message)) return;
  const d = ws.data;
  const parsed = parseFrame(message, d.hub.config.maxJsonDepth);
  if (!parsed.ok) {
    if (parsed.code === "E_TOO_DEEP") d.hub.metrics.limitsExceeded.incL(["max_json_depth"]);
    badFrame(ws, parsed.code, parsed.message, parsed.id);
    return;
  }
  const f = parsed.value;
  // Every frame with an id gets exactly one answer: a fault inside the server is answered with
  // E_INTERNAL for that id (the handlers below answer last, so nothing was answered before).
  const before = d.hub.effects;
  try {
    dispatchFrame(ws, f);
  } catch (e) {
    d.hub.log.error("ws_frame_error", { clientId: clientIdOf(d), type: f.type.slice(0, 32), error: String(e) });
    if (ws.readyState === 1) internalError(ws, f, d.hub.effects !== before);
  }
}

function dispatchFrame(ws: Conn, f: Frame): void {
  const d = ws.data;
  if (f.type === "ping") {
    ws.send(f.id === undefined ? '{"type":"pong"}' : `{"type":"pong","id":${JSON.stringify(f.id)}}`);
    return;
  }
  if (!d.loggedIn) {
    if (f.type !== "auth") badFrame(ws, "E_BAD_FRAME", "the first frame must be auth", f.id);
    else if (d.authenticating) badFrame(ws, "E_BAD_FRAME", "auth in progress", f.id);
    else onAuth(ws, f);
    return;
  }
  switch (f.type) {
    case "send": onClientSend(ws, f); return;
    case "rpc": onRpc(ws, f); return;
    case "subscribe": onSubscribe(ws, f); return;
    case "unsubscribe": onUnsubscribe(ws, f); return;
    case "refresh": onRefresh(ws, f); return;
    case "auth": badFrame(ws, "E_BAD_FRAME", "already authenticated", f.id); return;
    default: badFrame(ws, "E_BAD_FRAME", `unknown frame type ${JSON.stringify(f.type.slice(0, 32))}`, f.id);
  }
}

/** A `send` is answered by a `reply` (what its caller awaits); `auth` by a 1011 close; others by an error frame. */
function internalError(ws: Conn, f: Frame, mayHaveActed: boolean): void {
  if (f.type === "send" && f.id !== undefined) {
    replyError(ws, f.id, "E_INTERNAL", mayHaveActed ? "internal error: the send may or may not have been delivered" : "internal error: the send was not delivered");
  }
  // A login that failed half-way has no state worth keeping: the client reconnects.
  else if (f.type === "auth") closeWithError(ws, CloseCode.INTERNAL_ERROR, "E_INTERNAL", "login failed");
  else sendError(ws, "E_INTERNAL", "internal error", f.id);
}

function onAuth(ws: Conn, f: Frame): void {
  const d = ws.data;
  const recover = parseRecover(f.recover, d.hub.config.maxRecoverStreams);
  if (!recover.ok) {
    // Only the stream-count refusal names the whole field.
    if (recover.field === "recover") d.hub.metrics.limitsExceeded.incL(["max_recover_streams"]);
    closeWithError(ws, CloseCode.POLICY_VIOLATION, recover.code, recover.message);
    return;
  }
  const field = d.hub.auth.credential;
  const credential = f[field];
  if (credential === undefined && d.preauth) {
    finishV1Login(ws, { ok: true, value: d.preauth }, recover.value);
    return;
  }
  if (typeof credential !== "string") {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_AUTH_FAILED", `auth needs a string \`${field}\``);
    return;
  }
  authenticate(ws, credential, recover.value, finishV1Login);
}

/**
 * The engine gives the login its positions and recovery (at once from memory; from Redis after
 * it holds the streams); subscribing, welcome, replay and recovery then happen in one
 * synchronous step, so live messages follow with no gap and no duplicate.
 */
function finishV1Login(ws: Conn, result: Result<Identity>, recover: Map<string, StreamPosition> | null): void {
  if (!result.ok) return void completeLogin(ws, result);
  const id = result.value;
  admitLogin(ws, result, (done) => {
    const d = ws.data;
    const view = d.hub.engine.login([uidTopic(id.uid), TOPIC_ALL, ...(id.groups ?? []).map(groupTopic)], recover);
    if (!(view instanceof Promise)) return finishLogin(ws, id, recover, view, done);
    d.authenticating = true;
    view.then((v) => {
      d.authenticating = false;
      finishLogin(ws, id, recover, v, done);
    }).catch((e) => {
      done();
      d.authenticating = false;
      d.hub.log.error("login_error", { clientId: clientIdOf(d), error: String(e) });
      // Not left open unanswered until --login-timeout: the client reconnects at once.
      if (ws.readyState === 1) closeWithError(ws, CloseCode.INTERNAL_ERROR, "E_INTERNAL", "login failed");
    });
  });
}

function finishLogin(ws: Conn, id: Identity, recover: Map<string, StreamPosition> | null, view: LoginView, done: () => void): void {
  try {
    const bound = ws.readyState === 1 && completeLogin(ws, { ok: true, value: id });
    done();
    if (bound) sendWelcome(ws, recover, view.source);
  } finally {
    done();
    view.release();
  }
}

function onRefresh(ws: Conn, f: Frame): void {
  if (ws.data.hub.auth.credential !== "token") {
    badFrame(ws, "E_BAD_FRAME", "refresh needs token auth (--auth jwt)", f.id);
    return;
  }
  if (typeof f.token !== "string") {
    badFrame(ws, "E_BAD_FRAME", "refresh needs a string `token`", f.id);
    return;
  }
  authenticate(ws, f.token, f.id, finishRefresh);
}

function finishRefresh(ws: Conn, r: Result<Identity>, id: string | number | undefined): void {
  const d = ws.data;
  if (!r.ok) return sendError(ws, r.code, r.message, id);
  if (r.value.uid !== d.uid) return sendError(ws, "E_AUTH_FAILED", "refresh token is for another uid", id);
  const exp = r.value.expiresAt ?? 0;
  d.hub.expiry.schedule(ws, exp);
  const idPart = id === undefined ? "" : `,"id":${JSON.stringify(id)}`;
  ws.send(`{"type":"refreshed","exp":${exp > 0 ? Math.floor(exp / 1000) : null}${idPart}}`);
}
