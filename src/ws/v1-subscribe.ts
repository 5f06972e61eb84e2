// pushgate.v1 `subscribe {id, group, token?, recover?}` / `unsubscribe {id, group}`: a client
// joins or leaves a group itself, as --channel-rules allows (core/channel-rules.ts): "public"
// groups at once, "hook" groups when the backend says yes (a `subscribe` hook request), "token"
// groups with a channel token (until its exp; a new subscribe with a new token refreshes it). The reply carries
// the group stream's position; with `recover` ({epoch, offset} of that stream) the missed pushes
// are replayed and a `recovery` frame follows — exactly as for the streams joined at login: the
// engine holds the stream, then joining, reply and replay happen in one synchronous step, so
// live pushes follow with no gap and no duplicate. Refusals are error replies with stable codes.
import { clientIdOf } from "../core/client-table.ts";
import { type Result, err, ok } from "../core/result.ts";
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
  if (rule === null || rule.subscribe === null) {
    hub.metrics.drops.incL(["forbidden"]);
    return replyError(ws, id, "E_FORBIDDEN", `clients may not subscribe to group ${name} (no --channel-rules rule matches it)`);
  }
  const stream = groupTopic(name);
  const recover = recoverOf(f.recover, stream);
  if (recover === undefined) return badFrame(ws, "E_BAD_FRAME", "recover must be {epoch: string, offset: integer >= 0} of the group's stream", id);
  const member = d.groups?.has(name) ?? false;
  // A member gets its position (and replay) again; with a token rule the new token is checked
  // and, when good, moves the subscription's end (a refresh).
  if (member && rule.subscribe !== "token") return hold(ws, id, name, recover, 0);
  if (!member) {
    const refused = hub.members.checkJoin(ws, name);
    if (refused) return replyError(ws, id, refused.code, refused.message);
  }
  const subs = (d.subs ??= { pending: new Set(), expiry: null });
  if (subs.pending.has(name)) return replyError(ws, id, "E_BAD_FRAME", `a subscribe to ${name} is in progress`);
  if (subs.pending.size >= MAX_PENDING) return replyError(ws, id, "E_RATE_LIMITED", `${MAX_PENDING} subscribes of this connection are in progress`);
  if (rule.subscribe === "public") {
    subs.pending.add(name);
    return hold(ws, id, name, recover, 0);
  }
  if (rule.subscribe === "token") {
    if (typeof f.token !== "string") return replyError(ws, id, "E_AUTH_FAILED", `group ${name} needs a channel token (\`token\`)`);
    subs.pending.add(name);
    return void channelToken(ws, f.token, name).then((r) => {
      if (!r.ok) {
        subs.pending.delete(name);
        if (ws.readyState === 1) replyError(ws, id, r.code, r.message);
        return;
      }
      if (ws.readyState !== 1) return void subs.pending.delete(name);
      hold(ws, id, name, recover, r.value);
    });
  }
  // "hook": the backend decides (hub.backend is set: checked at start).
  subs.pending.add(name);
  void hub.backend!.post("subscribe", { clientId: clientIdOf(d), uid: d.uid, group: name }).then((r) => {
    if (ws.readyState !== 1) return void subs.pending.delete(name);
    if (!r.ok) {
      subs.pending.delete(name);
      return replyError(ws, id, r.code, r.message);
    }
    const { status, body } = r.value;
    if (status >= 400 || body.error !== undefined) {
      subs.pending.delete(name);
      const e = body.error as { message?: unknown } | string | undefined;
      const why = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : `the backend refused (${status})`;
      return replyError(ws, id, "E_SUBSCRIBE_REFUSED", why.slice(0, 200));
    }
    hold(ws, id, name, recover, 0);
  }, (e) => {
    subs.pending.delete(name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(d), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: not subscribed");
  });
}

/**
 * A channel token: a JWT signed with the server's key (the same key, alg, iss and aud rules as
 * the connection token) whose `sub` is this connection's uid and whose `channel` is the group;
 * its `exp` (ms) is when the subscription ends unless a new token comes first.
 */
async function channelToken(ws: Conn, token: string, group: string): Promise<Result<number>> {
  const verifier = ws.data.hub.auth.verifier!;
  const r = await verifier.verify(token);
  if (!r.ok) return r;
  const c = r.value;
  if (c.exp * 1000 <= Date.now()) return err("E_TOKEN_EXPIRED", "the channel token expired");
  if (c.sub !== ws.data.uid) return err("E_AUTH_FAILED", "the channel token is for another uid");
  if (c.channel !== group) return err("E_AUTH_FAILED", `the channel token is not for group ${group}`);
  return ok(c.exp * 1000);
}

export function onUnsubscribe(ws: Conn, f: Frame): void {
  const d = ws.data;
  const id = f.id;
  if (id === undefined) return badFrame(ws, "E_BAD_FRAME", "unsubscribe needs an `id`");
  const group = validateGroup(f.group);
  if (!group.ok) return replyError(ws, id, group.code, group.message);
  const name = group.value;
  // Only what a client may subscribe to may it leave: groups from the login or the API stay.
  if ((d.hub.channels?.match(name)?.subscribe ?? null) === null) {
    return replyError(ws, id, "E_FORBIDDEN", `clients may not unsubscribe from group ${name} (no --channel-rules rule matches it)`);
  }
  const was = d.groups?.has(name) ?? false;
  d.hub.subExpiry.cancel(ws, name);
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
/** `exp`: when a channel-token subscription ends (ms since epoch), 0 for none. */
function hold(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null, exp: number): void {
  const hub = ws.data.hub;
  const view = hub.engine.login([groupTopic(name)], recover);
  if (!(view instanceof Promise)) return joined(ws, id, name, recover, view, exp);
  view.then((v) => joined(ws, id, name, recover, v, exp), (e) => {
    ws.data.subs?.pending.delete(name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(ws.data), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: not subscribed");
  });
}

/** Join (a no-op for a member), reply with the position, replay: one synchronous step. */
function joined(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null, view: LoginView, exp: number): void {
  const hub = ws.data.hub;
  ws.data.subs?.pending.delete(name);
  try {
    if (ws.readyState !== 1) return;
    const r = hub.members.joinGroup(ws, name);
    if (!r.ok) return replyError(ws, id, r.code, r.message); // the limit was reached meanwhile
    if (exp > 0) hub.subExpiry.schedule(ws, name, exp);
    answer(ws, id, name, recover, view, exp);
  } finally {
    view.release();
  }
}

function answer(ws: Conn, id: string | number, name: string, recover: Map<string, StreamPosition> | null, view: LoginView, exp: number): void {
  const stream = groupTopic(name);
  const pos = view.source.position(stream);
  const result = exp > 0
    ? { group: name, stream, epoch: pos.epoch, offset: pos.offset, exp: Math.floor(exp / 1000) }
    : { group: name, stream, epoch: pos.epoch, offset: pos.offset };
  ws.send(`{"type":"reply","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`);
  if (recover !== null) sendRecovery(ws, [stream], recover, view.source);
}
