// The seed text protocol (Workerman "send data to a specific client"): first frame = login,
// then `X:payload` to uid X or `all:payload` to everyone. Split at the first colon only.
import type { Identity } from "../auth/types.ts";
import { CloseCode } from "../core/errors.ts";
import type { Result } from "../core/result.ts";
import type { Conn } from "../transport/conn-data.ts";
import { takeToken } from "../transport/rate-limit.ts";
import { closeWithError, sendError } from "./frames.ts";
import { RESERVED_UID, validateUid } from "./names.ts";

export const LOGIN_REPLY_PREFIX = "login success, your uid is ";
export const BROADCAST_TARGET = RESERVED_UID;

/** loginDeadline value while an asynchronous authenticator is deciding. */
const AUTHENTICATING = -1;

export function onSeedMessage(ws: Conn, message: string | Buffer): void {
  const d = ws.data;
  const hub = d.hub;
  const cfg = hub.config;
  hub.metrics.framesIn.inc();
  if (typeof message !== "string") {
    closeWithError(ws, CloseCode.UNSUPPORTED_DATA, "E_BINARY_UNSUPPORTED", "this protocol takes text frames only");
    return;
  }
  if (cfg.rateLimit > 0) {
    if (!takeToken(d, cfg.rateLimit, cfg.rateBurst, performance.now())) {
      onRateLimited(ws);
      return;
    }
    if (d.rateLimited) d.rateLimited = false;
  }
  if (!d.loggedIn) {
    login(ws, message);
    return;
  }
  const colon = message.indexOf(":");
  if (colon <= 0) {
    sendError(ws, "E_BAD_FRAME", "expected <uid>:<payload> or all:<payload>");
    return;
  }
  if (!cfg.allowClientSend) {
    hub.metrics.drops.incL(["forbidden"]);
    sendError(ws, "E_FORBIDDEN", "clients may not send to other uids on this server (--allow-client-send)");
    return;
  }
  const target = message.slice(0, colon);
  const payload = message.slice(colon + 1);
  if (target === BROADCAST_TARGET) {
    hub.sendToAll(payload, null);
    return;
  }
  const uid = validateUid(target);
  if (!uid.ok) {
    sendError(ws, uid.code, uid.message);
    return;
  }
  // An offline target is dropped silently, as in the seed (counted in pushgate_drops_total).
  hub.sendToUid(target, payload);
}

function login(ws: Conn, frame: string): void {
  const d = ws.data;
  if (d.loginDeadline === AUTHENTICATING) {
    sendError(ws, "E_BAD_FRAME", "login in progress");
    return;
  }
  const result = d.hub.auth.fromFirstFrame(frame);
  if (result instanceof Promise) {
    d.loginDeadline = AUTHENTICATING;
    result.then(
      (r) => { if (ws.readyState === 1) finishLogin(ws, r); },
      () => { if (ws.readyState === 1) closeWithError(ws, CloseCode.INTERNAL_ERROR, "E_INTERNAL", "authentication failed"); },
    );
    return;
  }
  finishLogin(ws, result);
}

function finishLogin(ws: Conn, result: Result<Identity>): void {
  const hub = ws.data.hub;
  if (!result.ok) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, result.code, result.message);
    return;
  }
  const bound = hub.bindUid(ws, result.value.uid);
  if (!bound.ok) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, bound.code, bound.message);
    return;
  }
  for (const g of result.value.groups ?? []) hub.joinGroup(ws, g);
  ws.send(LOGIN_REPLY_PREFIX + result.value.uid);
}

function onRateLimited(ws: Conn): void {
  const d = ws.data;
  const hub = d.hub;
  d.rateDrops++;
  hub.metrics.drops.incL(["rate_limited"]);
  if (d.rateDrops >= hub.config.rateLimitCloseAfter) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_RATE_LIMITED", "too many frames over the rate limit");
    return;
  }
  // One error frame per episode: answering every dropped frame would amplify a flood.
  if (!d.rateLimited) {
    d.rateLimited = true;
    sendError(ws, "E_RATE_LIMITED", `over ${hub.config.rateLimit} frames/s; frames are dropped`);
  }
}
