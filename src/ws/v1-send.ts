// pushgate.v1 `send`: a client pushes to "uid:<uid>", "group:<name>" (members only) or "all".
import type { Conn } from "../core/conn-data.ts";
import { validateGroup, validateUid } from "../core/names.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import type { Payload } from "../history/types.ts";
import { badFrame } from "./error-frames.ts";
import type { Frame } from "./v1-frames.ts";
import { reportUndelivered } from "./undelivered.ts";

function reply(ws: Conn, id: string | number, delivered: number): void {
  ws.send(`{"type":"reply","id":${JSON.stringify(id)},"delivered":${delivered}}`);
}

/** `detail`: extra data for the error (an rpc's backend error), sent as JSON. */
export function replyError(ws: Conn, id: string | number, code: string, message: string, detail?: unknown): void {
  ws.data.hub.metrics.errors.incL([code]);
  const extra = detail === undefined ? "" : `,"detail":${JSON.stringify(detail)}`;
  ws.send(`{"type":"reply","id":${JSON.stringify(id)},"error":{"code":"${code}","message":${JSON.stringify(message)}${extra}}}`);
}

export function onClientSend(ws: Conn, f: Frame): void {
  const hub = ws.data.hub;
  const id = f.id;
  if (id === undefined) return badFrame(ws, "E_BAD_FRAME", "send needs an `id`");
  if (typeof f.to !== "string") return badFrame(ws, "E_BAD_FRAME", "send needs a string `to`", id);
  if (f.data === undefined) return badFrame(ws, "E_BAD_FRAME", "send needs `data`", id);
  if (!hub.config.allowClientSend) {
    hub.metrics.drops.incL(["forbidden"]);
    return replyError(ws, id, "E_FORBIDDEN", "clients may not send on this server (--allow-client-send)");
  }
  const payload: Payload = typeof f.data === "string"
    ? { text: f.data, isJson: false }
    : { text: JSON.stringify(f.data), isJson: true };
  const to = f.to;
  if (to === "all") return deliver(ws, id, TOPIC_ALL, payload, "all");
  if (to.startsWith("uid:")) {
    const uid = validateUid(to.slice(4));
    if (!uid.ok) return replyError(ws, id, uid.code, uid.message);
    return deliver(ws, id, uidTopic(uid.value), payload, "uid");
  }
  if (to.startsWith("group:")) {
    const group = validateGroup(to.slice(6));
    if (!group.ok) return replyError(ws, id, group.code, group.message);
    if (!ws.data.groups?.has(group.value)) return replyError(ws, id, "E_FORBIDDEN", `not a member of group ${group.value}`);
    return deliver(ws, id, groupTopic(group.value), payload, "group");
  }
  badFrame(ws, "E_BAD_FRAME", "to must be uid:<uid>, group:<name> or all", id);
}

/** Pushes and replies: at once on the memory engine, once the other nodes reported on Redis. */
function deliver(ws: Conn, id: string | number, stream: string, payload: Payload, kind: "uid" | "group" | "all"): void {
  const r = ws.data.hub.publish(stream, kind, payload, null, true);
  if (kind === "uid") reportUndelivered(ws, stream.slice(4), payload, r);
  if (typeof r === "number") return answer(ws, id, kind, stream, r, null);
  void r.then(
    (routed) => {
      if (ws.readyState === 1) answer(ws, id, kind, stream, routed.reached, routed.error?.code ?? null);
    },
    (e) => {
      ws.data.hub.log.error("ws_frame_error", { type: "send", error: String(e) });
      if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: the send may or may not have been delivered");
    },
  );
}

function answer(ws: Conn, id: string | number, kind: string, stream: string, n: number, error: string | null): void {
  if (error !== null && n === 0) {
    return replyError(ws, id, error, error === "E_CLUSTER_TIMEOUT"
      ? "Redis or a node did not answer in time: the send may still be delivered (outcome unknown)"
      : "other nodes could not be reached (Redis unavailable): delivered on this node only");
  }
  if (n === 0 && kind === "uid") return replyError(ws, id, "E_OFFLINE", `uid ${stream.slice(4)} has no connection`);
  reply(ws, id, n);
}
