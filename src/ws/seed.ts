// The seed text protocol (Workerman "send data to a specific client"): first frame = login,
// then `X:payload` to uid X or `all:payload` to everyone. Split at the first colon only.
import type { Identity } from "../auth/types.ts";
import type { Conn } from "../core/conn-data.ts";
import { RESERVED_UID, uidProblem } from "../core/names.ts";
import type { Result } from "../core/result.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import { admit } from "./admit.ts";
import { badFrame, sendError } from "./error-frames.ts";
import { admitLogin, authenticate, completeLogin } from "./login.ts";
import { toBackend } from "./seed-backend.ts";
import { reportUndelivered } from "./undelivered.ts";

export const LOGIN_REPLY_PREFIX = "login success, your uid is ";
const BROADCAST_TARGET = RESERVED_UID;

export function onSeedMessage(ws: Conn, message: string | Buffer): void {
  if (!admit(ws, message)) return;
  const d = ws.data;
  const hub = d.hub;
  if (!d.loggedIn) {
    if (d.authenticating) sendError(ws, "E_BAD_FRAME", "login in progress");
    else authenticate(ws, message, null, finishSeedLogin);
    return;
  }
  if (hub.config.seedMessages === "backend") return toBackend(ws, message);
  const colon = message.indexOf(":");
  if (colon <= 0) {
    badFrame(ws, "E_BAD_FRAME", "expected <uid>:<payload> or all:<payload>");
    return;
  }
  if (!hub.config.allowClientSend) {
    hub.metrics.drops.incL(["forbidden"]);
    sendError(ws, "E_FORBIDDEN", "clients may not push on this server (--allow-client-send)");
    return;
  }
  const target = message.slice(0, colon);
  const payload = { text: message.slice(colon + 1), isJson: false };
  if (target === BROADCAST_TARGET) {
    void hub.publish(TOPIC_ALL, "all", payload, null, false);
    return;
  }
  const problem = uidProblem(target);
  if (problem !== null) {
    badFrame(ws, "E_INVALID_UID", problem);
    return;
  }
  // An offline target is dropped silently, as in the seed (counted in pushgate_drops_total),
  // and told to the webhook as message.undelivered when it asks.
  const wanted = hub.events?.wantsUndelivered ?? false;
  const r = hub.publish(uidTopic(target), "uid", payload, null, wanted);
  if (wanted) reportUndelivered(ws, target, payload, r);
}

/**
 * Also used at open when the upgrade URL carried a valid token. When the engine must first hold
 * the uid's (and groups') streams (Redis: this node subscribed to their channels), the reply
 * waits for it, so a push from another node right after "login success" is not missed.
 */
export function finishSeedLogin(ws: Conn, result: Result<Identity>): void {
  admitLogin(ws, result, (done) => {
    const bound = completeLogin(ws, result);
    done();
    if (bound) replyWhenHeld(ws, result.value);
  });
}

function replyWhenHeld(ws: Conn, id: Identity): void {
  const engine = ws.data.hub.engine;
  const uid = id.uid;
  const streams = [uidTopic(uid), ...(id.groups ?? []).map(groupTopic)];
  const held = engine.hold(streams);
  if (held === null) return void ws.send(LOGIN_REPLY_PREFIX + uid);
  // Logged in already (frames the client sends next are taken); only the reply waits.
  void held.then(() => {
    if (ws.readyState === 1) ws.send(LOGIN_REPLY_PREFIX + uid);
    engine.release(streams);
  });
}
