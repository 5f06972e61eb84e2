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

/** One subscribe in flight: an unsubscribe (or a newer subscribe) of the group cancels it. */
interface Attempt {
  id: string | number;
  name: string;
  recover: Map<string, StreamPosition> | null;
  /** The channel token's end (ms since epoch), 0 for none. */
  exp: number;
}

/** The frame's id and its valid group, or null when it was refused (answered already). */
function target(ws: Conn, f: Frame): { id: string | number; name: string } | null {
  const id = f.id;
  if (id === undefined) {
    badFrame(ws, "E_BAD_FRAME", `${f.type} needs an \`id\``);
    return null;
  }
  const group = validateGroup(f.group);
  if (!group.ok) {
    replyError(ws, id, group.code, group.message);
    return null;
  }
  return { id, name: group.value };
}

export function onSubscribe(ws: Conn, f: Frame): void {
  const d = ws.data;
  const hub = d.hub;
  const t = target(ws, f);
  if (t === null) return;
  const { id, name } = t;
  const rule = hub.channels?.match(name) ?? null;
  if (rule === null || rule.subscribe === null) {
    hub.metrics.drops.incL(["forbidden"]);
    return replyError(ws, id, "E_FORBIDDEN", `clients may not subscribe to group ${name} (no --channel-rules rule matches it)`);
  }
  const stream = groupTopic(name);
  const recover = recoverOf(f.recover, stream);
  if (recover === undefined) return badFrame(ws, "E_BAD_FRAME", "recover must be {epoch: string, offset: integer >= 0} of the group's stream", id);
  if (!(d.groups?.has(name) ?? false)) {
    const refused = hub.members.checkJoin(ws, name);
    if (refused) return replyError(ws, id, refused.code, refused.message);
  }
  const subs = (d.subs ??= { pending: new Map(), expiry: null });
  const earlier = subs.pending.get(name) as Attempt | undefined;
  if (earlier === undefined && subs.pending.size >= MAX_PENDING) {
    return replyError(ws, id, "E_RATE_LIMITED", `${MAX_PENDING} subscribes of this connection are in progress`);
  }
  // A newer subscribe of the same group replaces one in flight (which is answered as cancelled).
  if (earlier !== undefined) cancelled(ws, earlier, "a newer subscribe of the same group replaced it");
  const attempt: Attempt = { id, name, recover, exp: 0 };
  subs.pending.set(name, attempt);
  const fail = (e: unknown) => {
    if (subs.pending.get(name) === attempt) subs.pending.delete(name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(d), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: not subscribed");
  };
  // A member gets its position (and replay) again; with a token rule the new token is checked
  // and, when good, moves the subscription's end (a refresh).
  if (rule.subscribe === "public" || (rule.subscribe === "hook" && d.groups?.has(name))) return hold(ws, attempt);
  if (rule.subscribe === "token") {
    if (typeof f.token !== "string") {
      subs.pending.delete(name);
      return replyError(ws, id, "E_AUTH_FAILED", `group ${name} needs a channel token (\`token\`)`);
    }
    return void channelToken(ws, f.token, name).then((r) => {
      if (!current(ws, attempt)) return;
      if (!r.ok) {
        subs.pending.delete(name);
        return replyError(ws, id, r.code, r.message);
      }
      attempt.exp = r.value;
      hold(ws, attempt);
    }).catch(fail);
  }
  // "hook": the backend decides (a backend with a subscribe hook exists: checked at start).
  void hub.backend!.post("subscribe", { clientId: clientIdOf(d), uid: d.uid, group: name }).then((r) => {
    if (!current(ws, attempt)) return;
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
    hold(ws, attempt);
  }).catch(fail);
}

/** Still the group's attempt on an open socket (else it was cancelled, and answered then). */
function current(ws: Conn, a: Attempt): boolean {
  if (ws.data.subs?.pending.get(a.name) === a && ws.readyState === 1) return true;
  if (ws.readyState !== 1 && ws.data.subs?.pending.get(a.name) === a) ws.data.subs.pending.delete(a.name);
  return false;
}

/** An attempt given up: answered for its id, so every frame with an id gets one answer. */
function cancelled(ws: Conn, a: Attempt, why: string): void {
  ws.data.subs?.pending.delete(a.name);
  if (ws.readyState === 1) replyError(ws, a.id, "E_SUBSCRIBE_REFUSED", `not subscribed: ${why}`);
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
  const t = target(ws, f);
  if (t === null) return;
  const { id, name } = t;
  // Only what a client may subscribe to may it leave: groups from the login or the API stay.
  if ((d.hub.channels?.match(name)?.subscribe ?? null) === null) {
    return replyError(ws, id, "E_FORBIDDEN", `clients may not unsubscribe from group ${name} (no --channel-rules rule matches it)`);
  }
  const pending = d.subs?.pending.get(name) as Attempt | undefined;
  if (pending !== undefined) cancelled(ws, pending, "unsubscribed before it completed");
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
function hold(ws: Conn, a: Attempt): void {
  const hub = ws.data.hub;
  const view = hub.engine.login([groupTopic(a.name)], a.recover);
  if (!(view instanceof Promise)) return joined(ws, a, view);
  view.then((v) => joined(ws, a, v)).catch((e) => {
    if (ws.data.subs?.pending.get(a.name) === a) ws.data.subs.pending.delete(a.name);
    hub.log.error("subscribe_error", { clientId: clientIdOf(ws.data), error: String(e) });
    if (ws.readyState === 1) replyError(ws, a.id, "E_INTERNAL", "internal error: not subscribed");
  });
}

/** Join (a no-op for a member), reply with the position, replay: one synchronous step. */
function joined(ws: Conn, a: Attempt, view: LoginView): void {
  const d = ws.data;
  const hub = d.hub;
  try {
    if (!current(ws, a)) return;
    d.subs!.pending.delete(a.name);
    const r = hub.members.joinGroup(ws, a.name);
    if (!r.ok) return replyError(ws, a.id, r.code, r.message); // the limit was reached meanwhile
    // A token ends only what it made (or refreshes): a membership the backend gave stays.
    const exp = a.exp > 0 && (r.value || d.subs!.expiry?.has(a.name)) ? a.exp : 0;
    if (exp > 0) hub.subExpiry.schedule(ws, a.name, exp);
    answer(ws, a, view, exp);
  } finally {
    view.release();
  }
}

function answer(ws: Conn, a: Attempt, view: LoginView, exp: number): void {
  const stream = groupTopic(a.name);
  const pos = view.source.position(stream);
  const result = exp > 0
    ? { group: a.name, stream, epoch: pos.epoch, offset: pos.offset, exp: Math.floor(exp / 1000) }
    : { group: a.name, stream, epoch: pos.epoch, offset: pos.offset };
  ws.send(`{"type":"reply","id":${JSON.stringify(a.id)},"result":${JSON.stringify(result)}}`);
  if (a.recover !== null) sendRecovery(ws, [stream], a.recover, view.source);
}
