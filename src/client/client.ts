// PushgateClient: the pushgate.v1 semantics on top of the reconnect loop — stream positions and
// the duplicate guard, recovery reports, send() and rpc() replies, token refresh.

import { Connection, errText } from "./connection.ts";
import { ClientErrorCode, PushgateError } from "./errors.ts";
import { PendingSends } from "./pending.ts";
import { Positions } from "./positions.ts";
import { RefreshTimer, resolveToken } from "./refresh.ts";
import { type SubscribeOptions, type SubscribeResult, Subscription } from "./subscription.ts";
import type { PositionMap, PushgateClientOptions, RecoveryFrame, SendResult, ServerFrame, WelcomeFrame } from "./types.ts";

export class PushgateClient extends Connection {
  private readonly pending: PendingSends;
  private readonly tracker: Positions;
  private readonly refresher: RefreshTimer;
  /** Groups this client subscribed to itself, by name: subscribed again after every reconnect. */
  private readonly subs = new Map<string, Subscription>();
  /** Refresh timers of channel-token subscriptions whose token is a callback. */
  private readonly subRefresh = new Map<Subscription, RefreshTimer>();

  constructor(options: PushgateClientOptions) {
    super(options);
    this.pending = new PendingSends(this.o.sendTimeoutMs);
    this.tracker = new Positions(this.o.positions);
    this.refresher = new RefreshTimer(this.o.refreshBeforeMs, () => void this.refresh());
  }

  /** Sends `data` to `"uid:<uid>"`, `"group:<name>"` or `"all"`; resolves with the server's reply. */
  send(to: string, data: unknown): Promise<SendResult> {
    return this.call({ type: "send", to, data }, (f) => ({ delivered: typeof f.delivered === "number" ? f.delivered : 0 }));
  }

  /**
   * Asks the backend (--hook-url or the in-process `rpc` hook, docs/hooks.md): resolves with its
   * `result`; rejects with E_BACKEND_ERROR (the backend's error in `detail`),
   * E_BACKEND_UNAVAILABLE, E_BACKEND_TIMEOUT, E_TIMEOUT or E_DISCONNECTED.
   */
  rpc<T = unknown>(method: string, data?: unknown): Promise<T> {
    return this.call({ type: "rpc", method, data: data ?? null }, (f) => (f.result ?? null) as T);
  }

  /**
   * Subscribes to `group` (the server's --channel-rules must allow it): the subscription's
   * `message` events get its pushes; after a reconnect it is subscribed again, recovering what
   * it missed. Subscribing twice to one group gives the same Subscription.
   */
  subscribe(group: string, options: SubscribeOptions = {}): Subscription {
    const known = this.subs.get(group);
    if (known) return known;
    const sub = new Subscription(group, this, options);
    this.subs.set(group, sub);
    if (this.status === "connected") void this.sendSubscribe(sub);
    return sub;
  }

  /** @internal Subscription.unsubscribe() */
  unsubscribe(sub: Subscription): Promise<void> {
    if (this.subs.get(sub.group) !== sub) return Promise.resolve();
    this.forget(sub);
    sub.closed();
    if (this.status !== "connected") return Promise.resolve();
    return this.call({ type: "unsubscribe", group: sub.group }, () => undefined).catch((e: PushgateError) => {
      // Gone with the connection: the server forgot it too.
      if (e.code !== ClientErrorCode.DISCONNECTED) throw e;
    });
  }

  /** One subscribe frame per Subscription in flight; a call meanwhile sends another after it. */
  private async sendSubscribe(sub: Subscription): Promise<void> {
    if (sub.inflight) {
      sub.again = true;
      return;
    }
    sub.inflight = true;
    try {
      await this.subscribeOnce(sub);
    } finally {
      sub.inflight = false;
      if (sub.again) {
        sub.again = false;
        if (this.status === "connected" && this.subs.get(sub.group) === sub) void this.sendSubscribe(sub);
      }
    }
  }

  private async subscribeOnce(sub: Subscription): Promise<void> {
    const frame: Record<string, unknown> = { type: "subscribe", group: sub.group };
    const source = sub.options.token;
    if (source !== undefined) {
      try {
        frame.token = await resolveToken(source);
      } catch (err) {
        // Not the server's no: told, and tried again (the subscription stays).
        sub.trouble(new PushgateError(ClientErrorCode.TOKEN, `channel token callback failed: ${errText(err)}`));
        if (sub.retry === null && this.subs.get(sub.group) === sub) {
          sub.retry = setTimeout(() => {
            sub.retry = null;
            if (this.status === "connected" && this.subs.get(sub.group) === sub) void this.sendSubscribe(sub);
          }, 2000);
        }
        return;
      }
      if (this.subs.get(sub.group) !== sub || this.status !== "connected") return;
    }
    // Read after the token: pushes that arrived meanwhile moved the position.
    const at = this.tracker.get(sub.stream);
    if (at !== undefined) frame.recover = at;
    try {
      const r = await this.call(frame, (f) => f.result as SubscribeResult);
      if (this.subs.get(sub.group) !== sub) {
        // Left while the subscribe was on its way: leave on the server too.
        if (this.status === "connected") void this.call({ type: "unsubscribe", group: sub.group }, () => undefined).catch(() => {});
        return;
      }
      this.tracker.welcome([{ stream: sub.stream, epoch: r.epoch, offset: r.offset }]);
      if (typeof source === "function" && typeof r.exp === "number") this.refreshOf(sub).schedule(r.exp);
      sub.subscribed(r);
    } catch (e) {
      const pe = e as PushgateError;
      // Lost with the socket: subscribed again at the next welcome. Otherwise refused.
      if (pe.code === ClientErrorCode.DISCONNECTED || this.subs.get(sub.group) !== sub) return;
      this.dropSub(sub, pe);
    }
  }

  /** Forgets a subscription here: its timers, and its stream's position (a later subscribe starts afresh). */
  private forget(sub: Subscription): void {
    this.subs.delete(sub.group);
    this.subRefresh.get(sub)?.cancel();
    this.subRefresh.delete(sub);
    if (sub.retry !== null) clearTimeout(sub.retry);
    sub.retry = null;
    this.tracker.delete(sub.stream);
  }

  private refreshOf(sub: Subscription): RefreshTimer {
    let t = this.subRefresh.get(sub);
    if (t === undefined) {
      // A refresh is a subscribe again with a fresh token (the server moves the end).
      t = new RefreshTimer(this.o.refreshBeforeMs, () => {
        if (this.status === "connected" && this.subs.get(sub.group) === sub) void this.sendSubscribe(sub);
      });
      this.subRefresh.set(sub, t);
    }
    return t;
  }

  private dropSub(sub: Subscription, e: PushgateError): void {
    const wasSubscribed = sub.state === "subscribed";
    this.forget(sub);
    // A refresh refused while the server still has the membership: leave it there too.
    if (wasSubscribed && this.status === "connected") void this.call({ type: "unsubscribe", group: sub.group }, () => undefined).catch(() => {});
    sub.refused(e);
  }

  /** The server ended a subscription (its channel token expired): a callback gets a fresh one. */
  private onUnsubscribed(f: { group?: unknown; code?: unknown; message?: unknown }): void {
    const sub = typeof f.group === "string" ? this.subs.get(f.group) : undefined;
    if (sub === undefined) return;
    if (typeof sub.options.token === "function") {
      this.subRefresh.get(sub)?.cancel();
      void this.sendSubscribe(sub);
      return;
    }
    this.forget(sub); // the server has ended it already
    sub.refused(new PushgateError(String(f.code ?? "E_UNSUBSCRIBED"), String(f.message ?? "the server ended the subscription")));
  }

  private call<T>(frame: Record<string, unknown>, answer: (reply: Record<string, unknown>) => T): Promise<T> {
    const sock = this.sock;
    if (sock === null || this.status !== "connected") {
      return Promise.reject(new PushgateError(ClientErrorCode.DISCONNECTED, "not connected"));
    }
    const { id, promise } = this.pending.add(answer);
    let text: string;
    try {
      text = JSON.stringify({ ...frame, id });
    } catch (err) {
      this.pending.fail(id, "E_BAD_FRAME", `data is not serializable as JSON: ${errText(err)}`);
      return promise;
    }
    sock.send(text);
    return promise;
  }

  /** Snapshot of the last processed position of every stream: `{ [stream]: { epoch, offset } }`. */
  positions(): PositionMap {
    return this.tracker.snapshot();
  }

  protected recoverMap(): PositionMap | undefined {
    if (this.tracker.size === 0) return undefined;
    // Self-subscribed groups recover with their own subscribe, not in `auth` (--max-recover-streams).
    return this.subs.size === 0 ? this.tracker.snapshot() : this.tracker.snapshot((s) => s.startsWith("group:") && this.subs.has(s.slice(6)));
  }

  protected onSocketGone(reason: string): void {
    this.refresher.cancel();
    for (const t of this.subRefresh.values()) t.cancel(); // armed again by the resubscribe
    for (const sub of this.subs.values()) {
      if (sub.retry !== null) clearTimeout(sub.retry);
      sub.retry = null;
    }
    this.pending.rejectAll(ClientErrorCode.DISCONNECTED, reason);
  }

  protected onText(text: string): void {
    let f: ServerFrame;
    try {
      f = JSON.parse(text);
    } catch {
      this.emit("error", new PushgateError(ClientErrorCode.PROTOCOL, "a frame is not JSON"));
      return;
    }
    if (f === null || typeof f !== "object") return;
    switch (f.type) {
      case "push": {
        const { stream, epoch, offset } = f;
        if (typeof stream === "string" && typeof epoch === "string" && typeof offset === "number") {
          if (!this.tracker.accept(stream, epoch, offset)) return; // a duplicate
        }
        this.emit("message", f.data, f); // the frame is the meta: nothing allocated per message
        if (this.subs.size > 0 && typeof stream === "string" && stream.startsWith("group:")) this.subs.get(stream.slice(6))?.deliver(f.data, f);
        return;
      }
      case "reply":
        this.pending.settle(f.id, f as unknown as Record<string, unknown>, f.error);
        return;
      case "welcome":
        return this.onWelcome(f);
      case "recovery":
        return this.onRecovery(f);
      case "refreshed":
        this.refresher.schedule(f.exp);
        return;
      case "unsubscribed":
        return this.onUnsubscribed(f);
      case "presence":
        this.emit("presence", f);
        if (typeof f.group === "string") this.subs.get(f.group)?.presence(f);
        return;
      case "error":
        if (!this.pending.settle(f.id, f as unknown as Record<string, unknown>, f as never)) this.emit("error", new PushgateError(String(f.code), String(f.message)));
        return;
    }
  }

  private onWelcome(f: WelcomeFrame): void {
    if (Array.isArray(f.streams)) this.tracker.welcome(f.streams);
    if (typeof this.o.token === "function") this.refresher.schedule(f.exp);
    this.welcomed(f);
    for (const sub of this.subs.values()) void this.sendSubscribe(sub);
  }

  private onRecovery(f: RecoveryFrame): void {
    const streams = Array.isArray(f.streams) ? f.streams : [];
    this.tracker.recovery(streams);
    for (const s of streams) {
      if (s.recovered) continue;
      const info = { stream: s.stream, reason: s.reason ?? "gap" };
      this.emit("gap", info);
      if (this.subs.size > 0 && s.stream.startsWith("group:")) this.subs.get(s.stream.slice(6))?.gap(info);
    }
    this.emit("recovered", f);
  }

  /** At the refresh time: a fresh token from the callback, sent as `refresh` on the same socket. */
  private async refresh(): Promise<void> {
    const sock = this.sock;
    const source = this.o.token;
    if (sock === null || typeof source !== "function") return;
    let token: string;
    try {
      token = await resolveToken(source);
    } catch (err) {
      this.emit("error", new PushgateError(ClientErrorCode.TOKEN, `token callback failed on refresh: ${errText(err)}`));
      return;
    }
    if (this.sock === sock && this.status === "connected") sock.send(JSON.stringify({ type: "refresh", token }));
  }
}
