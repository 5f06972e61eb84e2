// pushgate.v1 `subscribe {id, group, recover?}` / `unsubscribe {id, group}`: a client joins or
// leaves a group itself, as --channel-rules allows (core/channel-rules.ts): "public" groups at
// once, "hook" groups when the backend says yes (a `subscribe` hook request). The reply carries
// the group stream's position; with `recover` ({epoch, offset} of that stream) the missed pushes
// are replayed and a `recovery` frame follows — exactly as for the streams joined at login: the
// engine holds the stream, then joining, reply and replay happen in one synchronous step, so
// live pushes follow with no gap and no duplicate. Refusals are error replies with stable codes.
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import { validateGroup } from "../core/names.ts";
import { groupTopic } from "../core/topics.ts";
import type { LoginView } from "../engine/types.ts";
import type { StreamPosition } from "../history/types.ts";
import { badFrame } from "./error-frames.ts";
import type { Frame } from "./v1-frames.ts";
import { replyError } from "./v1-send.ts";
import { sendRecovery } from "./v1-welcome.ts";

/** Subscribes in flight per connection at most (each waits for the backend or the engine). */
const MAX_PENDING = 16;

export function onSubscribe(ws: Conn, f: Frame): void {
  const d = ws.data;
  const hub = d.hub;
  const id = f.id;
  if (id === undefined) return badFrame(ws, "E_BAD_FRAME", "subscribe needs an `id`");
  const group = validateGroup(f.group);
  if (!group.ok) return replyError(ws, id, group.code, group.message);
  const name = group.value;
  const rule = hub.channels?.match(name) ?? null;
  if (rule === null) {
    hub.metrics.drops.incL(["forbidden"]);
    return replyError(ws, id, "E_FORBIDDEN", `clients may not subscribe to group ${name} (no --channel-rules rule matches it)`);
  }
  const stream = groupTopic(name);
  const recover = recoverOf(f.recover, stream);
  if (recover === undefined) return badFrame(ws, "E_BAD_FRAME", "recover must be {epoch: string, offset: integer >= 0} of the group's stream", id);
  if (d.groups?.has(name)) return hold(ws, id, name, recover); // already a member: its position (and replay) again
  const refused = hub.members.checkJoin(ws, name);
  if (refused) return replyError(ws, id, refused.code, refused.message);
  const pending = (d.subscribing ??= new Set());
  if (pending.has(name)) return replyError(ws, id, "E_BAD_FRAME", `a subscribe to ${name} is in progress`);
  if (pending.size >= MAX_PENDING) return replyError(ws, id, "E_RATE_LIMITED", `${MAX_PENDING} subscribes of this connection are in progress`);
  pending.add(name);
  if (rule.subscribe === "public") return hold(ws, id, name, recover);
  // "hook": the backend decides (hub.backend is set: checked at start).
  void hub.backend!.post("subscribe", { clientId: clientIdOf(d), uid: d.uid, group: name }).then((r) => {
    if (ws.readyState !== 1) return void pending.delete(name);
    if (!r.ok) {
      pending.delete(name);
      return replyError(ws, id, r.code, r.message);
    }
    const { status, body } = r.value;
    if (status >= 400 || body.error !== undefined) {
      pending.delete(name);
      const e = body.error as { message?: unknown } | string | undefined;
      const why = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : `the backend refused (${status})`;
      return replyError(ws, id, "E_SUBSCRIBE_REFUSED", why.slice(0, 200));
    }
    hold(ws, id, name, recover);
  }, (e) => {
    pending.delete(name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(d), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: not subscribed");
  });
}

export function onUnsubscribe(ws: Conn, f: Frame): void {
  const d = ws.data;
  const id = f.id;
  if (id === undefined) return badFrame(ws, "E_BAD_FRAME", "unsubscribe needs an `id`");
  const group = validateGroup(f.group);
  if (!group.ok) return replyError(ws, id, group.code, group.message);
  const name = group.value;
  // Only what a client may subscribe to may it leave: groups from the login or the API stay.
  if ((d.hub.channels?.match(name) ?? null) === null) {
    return replyError(ws, id, "E_FORBIDDEN", `clients may not unsubscribe from group ${name} (no --channel-rules rule matches it)`);
  }
  const was = d.groups?.has(name) ?? false;
  if (was) d.hub.members.leaveGroup(ws, name);
  ws.send(`{"type":"reply","id":${JSON.stringify(id)},"result":{"group":${JSON.stringify(name)},"unsubscribed":${was}}}`);
}

/** null: no recover asked; undefined: a malformed one. */
function recoverOf(v: unknown, stream: string): Map<string, StreamPosition> | null | undefined {
  if (v === undefined || v === null) return null;
  const p = v as { epoch?: unknown; offset?: unknown };
  if (typeof v !== "object" || typeof p.epoch !== "string" || p.epoch.length > 64 || typeof p.offset !== "number" || !Number.isSafeInteger(p.offset) || p.offset < 0) {
    return undefined;
  }
  return new Map([[stream, { epoch: p.epoch, offset: p.offset }]]);
}

/** The engine holds the stream (Redis: its channel is subscribed), then the join happens. */
function hold(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null): void {
  const hub = ws.data.hub;
  const view = hub.engine.login([groupTopic(name)], recover);
  if (!(view instanceof Promise)) return joined(ws, id, name, recover, view);
  view.then((v) => joined(ws, id, name, recover, v), (e) => {
    ws.data.subscribing?.delete(name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(ws.data), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: not subscribed");
  });
}

/** Join (a no-op for a member), reply with the position, replay: one synchronous step. */
function joined(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null, view: LoginView): void {
  const hub = ws.data.hub;
  ws.data.subscribing?.delete(name);
  try {
    if (ws.readyState !== 1) return;
    const r = hub.members.joinGroup(ws, name);
    if (!r.ok) return replyError(ws, id, r.code, r.message); // the limit was reached meanwhile
    answer(ws, id, name, recover, view);
  } finally {
    view.release();
  }
}

function answer(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null, view: LoginView): void {
  const stream = groupTopic(name);
  const pos = view.source.position(stream);
  ws.send(`{"type":"reply","id":${JSON.stringify(id)},"result":${JSON.stringify({ group: name, stream, epoch: pos.epoch, offset: pos.offset })}}`);
  if (recover !== null) sendRecovery(ws, [stream], recover, view.source);
}
