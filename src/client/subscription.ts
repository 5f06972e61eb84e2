// A group the client subscribed to itself (`client.subscribe(group)`, docs/protocol.md
// "Subscriptions"): its own `message` and `gap` events, `subscribed` after every (re)subscribe,
// `error` when the server refuses it. The client subscribes again after every reconnect,
// recovering from the last position it saw, until unsubscribe().

import { Emitter } from "./emitter.ts";
import type { PushgateError } from "./errors.ts";
import type { GapInfo, PresenceFrame, PushMeta } from "./types.ts";

export interface SubscribeResult {
  readonly group: string;
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
  /** A channel-token subscription: when it ends unless refreshed (seconds since epoch). */
  readonly exp?: number;
}

export interface SubscribeOptions {
  /**
   * A channel token for a group whose rule says "token": a fixed string, or a callback the SDK
   * calls at each (re)subscribe and again before the token's exp (a refresh).
   */
  token?: string | (() => string | Promise<string>);
}

export interface SubscriptionEvents {
  message: (data: unknown, meta: PushMeta) => void;
  /** The server's position for the group after each (re)subscribe. */
  subscribed: (result: SubscribeResult) => void;
  /** Recovery after a resubscribe was not complete. */
  gap: (info: GapInfo) => void;
  /** The server refused the subscription (then `state` is "closed": no further attempts), or its token callback failed (tried again in 2 s). */
  error: (err: PushgateError) => void;
  /** A uid joined or left the group (groups whose rule has presence). */
  presence: (p: PresenceFrame) => void;
}

/** What a subscription needs of its client. */
export interface SubscriptionOwner {
  unsubscribe(sub: Subscription): Promise<void>;
}

export class Subscription extends Emitter<SubscriptionEvents> {
  readonly stream: string;
  /** "subscribing" until the first reply, "subscribed", or "closed" (refused or unsubscribed). */
  state: "subscribing" | "subscribed" | "closed" = "subscribing";
  /** Settles with the first reply: resolved when subscribed, rejected when refused. */
  readonly ready: Promise<SubscribeResult>;
  private settle: { resolve(r: SubscribeResult): void; reject(e: PushgateError): void } | null;
  /** @internal one subscribe frame in flight at a time; `again`: send another when it is answered. */
  inflight = false;
  /** @internal */
  again = false;
  /** @internal a retry after a failed token callback */
  retry: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly group: string, private readonly owner: SubscriptionOwner, readonly options: SubscribeOptions = {}) {
    super();
    this.stream = `group:${group}`;
    const { promise, resolve, reject } = Promise.withResolvers<SubscribeResult>();
    promise.catch(() => {}); // a refusal is also an `error` event: an unawaited `ready` must not be an unhandled rejection
    this.ready = promise;
    this.settle = { resolve, reject };
  }

  /** Leaves the group (on the server too when connected); no further events. */
  unsubscribe(): Promise<void> {
    return this.owner.unsubscribe(this);
  }

  /** @internal the client's dispatch */
  deliver(data: unknown, meta: PushMeta): void {
    this.emit("message", data, meta);
  }

  /** @internal */
  subscribed(r: SubscribeResult): void {
    if (this.state === "closed") return;
    this.state = "subscribed";
    this.settle?.resolve(r);
    this.settle = null;
    this.emit("subscribed", r);
  }

  /** @internal */
  presence(p: PresenceFrame): void {
    this.emit("presence", p);
  }

  /** @internal */
  gap(info: GapInfo): void {
    this.emit("gap", info);
  }

  /** @internal a problem that does not end it (a token callback failed: tried again). */
  trouble(e: PushgateError): void {
    this.emit("error", e);
  }

  /** @internal the server refused it: closed for good. */
  refused(e: PushgateError): void {
    this.state = "closed";
    this.settle?.reject(e);
    this.settle = null;
    this.emit("error", e);
  }

  /** @internal */
  closed(): void {
    this.state = "closed";
  }
}
