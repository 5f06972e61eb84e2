// pushgate client SDK: the declarations of pushgate/client and of GET /client.d.ts.
// Generated from src/client/ by src/build/declarations.ts with TypeScript 5.9.3; do not edit,
// run `bun run build:types`.

// ---- backoff.ts
declare class Backoff {
    private readonly random;
    readonly minDelayMs: number;
    readonly maxDelayMs: number;
    readonly maxAttempts: number;
    /** Reconnects scheduled since the last reset. */
    attempt: number;
    constructor(opts?: ReconnectOptions, random?: () => number);
    /** The upper bound of the next delay, without consuming an attempt. */
    ceiling(attempt?: number): number;
    /** The next delay in ms, or null when maxAttempts is used up. Consumes one attempt. */
    next(): number | null;
    /** Consumes one attempt with no delay (an immediate retry); null when used up. */
    immediate(): 0 | null;
    reset(): void;
}

// ---- client.ts
declare class PushgateClient extends Connection {
    private readonly pending;
    private readonly tracker;
    private readonly refresher;
    /** Groups this client subscribed to itself, by name: subscribed again after every reconnect. */
    private readonly subs;
    /** Refresh timers of channel-token subscriptions whose token is a callback. */
    private readonly subRefresh;
    constructor(options: PushgateClientOptions);
    /** Sends `data` to `"uid:<uid>"`, `"group:<name>"` or `"all"`; resolves with the server's reply. */
    send(to: string, data: unknown): Promise<SendResult>;
    /**
     * Asks the backend (--hook-url or the in-process `rpc` hook, docs/hooks.md): resolves with its
     * `result`; rejects with E_BACKEND_ERROR (the backend's error in `detail`),
     * E_BACKEND_UNAVAILABLE, E_BACKEND_TIMEOUT, E_TIMEOUT or E_DISCONNECTED.
     */
    rpc<T = unknown>(method: string, data?: unknown): Promise<T>;
    /**
     * Subscribes to `group` (the server's --channel-rules must allow it): the subscription's
     * `message` events get its pushes; after a reconnect it is subscribed again, recovering what
     * it missed. Subscribing twice to one group gives the same Subscription.
     */
    subscribe(group: string, options?: SubscribeOptions): Subscription;
    /** One subscribe frame per Subscription in flight; a call meanwhile sends another after it. */
    private sendSubscribe;
    private subscribeOnce;
    /** Forgets a subscription here: its timers, and its stream's position (a later subscribe starts afresh). */
    private forget;
    private refreshOf;
    private dropSub;
    /** The server ended a subscription (its channel token expired): a callback gets a fresh one. */
    private onUnsubscribed;
    private call;
    /** Snapshot of the last processed position of every stream: `{ [stream]: { epoch, offset } }`. */
    positions(): PositionMap;
    protected recoverMap(): PositionMap | undefined;
    protected onSocketGone(reason: string): void;
    protected onText(text: string): void;
    private onWelcome;
    private onRecovery;
    /** At the refresh time: a fresh token from the callback, sent as `refresh` on the same socket. */
    private refresh;
}

// ---- close-policy.ts
/** "fatal": stop; "now": reconnect at once; "backoff": reconnect after the backoff delay. */
type CloseDecision = "fatal" | "now" | "backoff";
declare const TOKEN_EXPIRED_CLOSE = 4001;
declare const POLICY_VIOLATION_CLOSE = 1008;
/** The `E_*` code at the start of a close reason (`"E_AUTH_FAILED: bad signature"`), or null. */
declare function reasonCode(reason: string): string | null;
/** A 1008 close whose code says the credentials were refused. */
declare function isCredentialRefusal(code: number, reason: string): boolean;
/**
 * - 4001 token expired: at once, with a fresh token from the callback;
 * - 1008 refused credentials: stop, unless a token callback can produce new ones;
 * - anything else (shutdown, closeClient, network loss, limits): after the backoff.
 */
declare function closeDecision(code: number, reason: string, hasTokenCallback: boolean): CloseDecision;

// ---- connection.ts
declare abstract class Connection extends Emitter<PushgateEvents> {
    protected readonly o: ResolvedOptions;
    protected sock: Socket | null;
    protected status: ConnectionState;
    private current;
    private readonly backoff;
    /** True before connect() and after close() or giving up: nothing reconnects. */
    private stopped;
    /** Bumped by every attempt and by stop(), so a late token answer knows it is stale. */
    private generation;
    private waiter;
    private retryTimer;
    /** A welcomed connection is up: `disconnected` tells its loss, once — not every failed attempt after it. */
    private live;
    /** Credential refusals (1008) since the last welcome: a token callback gets one more try, then it stops. */
    private refusals;
    constructor(options: PushgateClientOptions);
    /** The `recover` map of the next `auth` (undefined: nothing to recover). */
    protected abstract recoverMap(): PositionMap | undefined;
    protected abstract onText(text: string): void;
    /** The socket is gone, by either side: fail what waited on it. */
    protected abstract onSocketGone(reason: string): void;
    get url(): string;
    get state(): ConnectionState;
    /** The welcome of the current connection, or null while not connected. */
    get welcome(): WelcomeFrame | null;
    /** Resolves on the next welcome (at once when connected); rejects when the client gives up or close() is called. */
    connect(): Promise<WelcomeFrame>;
    /** Closes cleanly: no reconnect; pending sends reject with E_DISCONNECTED. connect() starts over. */
    close(reason?: string): void;
    /** Called by the subclass on `welcome`: the attempt succeeded. */
    protected welcomed(f: WelcomeFrame): void;
    private attempt;
    private dial;
    /** The socket closed (server, network, or no welcome in time): reconnect or stop. */
    private lost;
    /**
     * Arms the next attempt after `delay` ms, or stops with `err` (E_GAVE_UP when `delay` is null
     * without one). State is settled before listeners run, so they may call close() or connect().
     */
    private after;
    private stop;
    private takeWaiter;
}
declare function errText(err: unknown): string;

// ---- emitter.ts
declare class Emitter<Events extends {
    [K in keyof Events]: (...args: any[]) => void;
}> {
    private readonly listeners;
    /** Subscribes; returns a function that unsubscribes. */
    on<K extends keyof Events>(event: K, listener: Events[K]): () => void;
    /** Subscribes for one call. */
    once<K extends keyof Events>(event: K, listener: Events[K]): () => void;
    off<K extends keyof Events>(event: K, listener: Events[K]): void;
    listenerCount(event: keyof Events): number;
    /**
     * Calls every listener with up to two arguments. A throwing listener does not stop the others
     * or corrupt the caller's state: its error is rethrown asynchronously.
     */
    protected emit(event: keyof Events, a?: unknown, b?: unknown): void;
}

// ---- errors.ts
/** Client-side codes; server codes (E_OFFLINE, E_FORBIDDEN, E_AUTH_FAILED, …) pass through as-is. */
declare const ClientErrorCode: {
    /** send() got no reply within sendTimeoutMs. */
    readonly TIMEOUT: "E_TIMEOUT";
    /** Not connected, or the socket dropped before the reply. */
    readonly DISCONNECTED: "E_DISCONNECTED";
    /** The token callback threw or returned something other than a non-empty string. */
    readonly TOKEN: "E_TOKEN";
    /** The server answered without the pushgate.v1 subprotocol, or sent a frame that is not JSON. */
    readonly PROTOCOL: "E_PROTOCOL";
    /** Reconnecting stopped: maxAttempts reached, or the server refused the credentials. */
    readonly GAVE_UP: "E_GAVE_UP";
};
declare class PushgateError extends Error {
    readonly name = "PushgateError";
    readonly code: string;
    /** The backend's own error of a refused rpc (E_BACKEND_ERROR), as it sent it. */
    readonly detail: unknown;
    constructor(code: string, message: string, detail?: unknown);
}

// ---- options.ts
interface ResolvedOptions {
    url: string;
    token: TokenSource | undefined;
    uid: string | undefined;
    WebSocket: typeof WebSocket;
    reconnect: ReconnectOptions;
    refreshBeforeMs: number;
    sendTimeoutMs: number;
    connectTimeoutMs: number;
    positions: PositionMap | undefined;
}
declare function resolveOptions(o: PushgateClientOptions): ResolvedOptions;

// ---- pending.ts
declare class PendingSends {
    private readonly timeoutMs;
    private readonly entries;
    private timer;
    private nextId;
    constructor(timeoutMs: number);
    get size(): number;
    /** Registers a call; `answer` turns its reply frame into the value the promise resolves with. */
    add<T>(answer: (reply: Record<string, unknown>) => T): {
        id: number;
        promise: Promise<T>;
    };
    /** Settles the call with this id from a reply (or an error frame); false if unknown. */
    settle(id: unknown, reply: Record<string, unknown>, error: {
        code: string;
        message: string;
        detail?: unknown;
    } | undefined): boolean;
    /** Rejects one entry (e.g. the socket refused the frame). */
    fail(id: number, code: string, message: string): void;
    /** Rejects every entry, e.g. with E_DISCONNECTED when the socket drops. */
    rejectAll(code: string, message: string): void;
    private arm;
    private disarm;
    private expire;
}

// ---- positions.ts
declare class Positions {
    private readonly map;
    constructor(initial?: PositionMap);
    get size(): number;
    /**
     * Records a push. Returns false for a duplicate (offset ≤ the known one in the same epoch),
     * which the caller drops. A push in another epoch is adopted.
     */
    accept(stream: string, epoch: string, offset: number): boolean;
    /**
     * welcome.streams: positions a stream the client did not know, and adopts a new epoch (nothing
     * will be replayed for it). A known stream in the same epoch keeps the client's own position,
     * since the replayed pushes that follow the welcome will move it forward.
     */
    welcome(streams: readonly StreamState[]): void;
    /** recovery.streams: the server's word on where each stream now stands, after the replay. */
    recovery(streams: readonly RecoveryStream[]): void;
    /** The last position seen of `stream` (a copy), or undefined. */
    get(stream: string): {
        epoch: string;
        offset: number;
    } | undefined;
    /** Forgets `stream` (a group the client left: a later subscribe starts afresh). */
    delete(stream: string): void;
    /** A fresh copy: `{ [stream]: { epoch, offset } }`; also the `recover` field of `auth`. */
    snapshot(skip?: (stream: string) => boolean): PositionMap;
}

// ---- refresh.ts
/** setTimeout fires at once for delays past 2^31 - 1 ms; longer waits are done in steps. */
declare const MAX_TIMER_MS: number;
/** Delay in ms from `nowMs` until the refresh of a token expiring at `expSec` (seconds since epoch). */
declare function refreshDelay(expSec: number, nowMs: number, refreshBeforeMs: number): number;
/** Resolves the token option: a fixed string, or the callback's answer. Throws on a bad answer. */
declare function resolveToken(source: string | (() => string | Promise<string>)): Promise<string>;
/** Arms one timer for the next refresh; a refreshed `exp` that is not later than the last is ignored. */
declare class RefreshTimer {
    private readonly refreshBeforeMs;
    private readonly fire;
    private timer;
    private lastExp;
    constructor(refreshBeforeMs: number, fire: () => void);
    /** Schedules the refresh of a token expiring at `expSec`; no-op without a later expiry. */
    schedule(expSec: number | undefined): void;
    /** Stops the timer and forgets the expiry (the next connection starts afresh). */
    cancel(): void;
    private arm;
}

// ---- socket.ts
declare const SUBPROTOCOL = "pushgate.v1";
interface SocketEvents {
    /** The upgrade succeeded with pushgate.v1: time to send `auth`. */
    open(): void;
    text(data: string): void;
    close(code: number, reason: string): void;
    error(err: PushgateError): void;
}
declare class Socket {
    private readonly events;
    private ws;
    private timer;
    /** Throws like the WebSocket constructor does (e.g. a malformed URL). */
    constructor(WS: typeof WebSocket, url: string, welcomeTimeoutMs: number, events: SocketEvents);
    send(text: string): void;
    /** The welcome came: the socket is no longer on probation. */
    welcomed(): void;
    /** Closes the socket (if still open) and detaches it: no further events. */
    dispose(code?: number, reason?: string): void;
    /** Ends the socket from this side and reports it as closed with `code`. */
    private abandon;
}

// ---- subscription.ts
interface SubscribeResult {
    readonly group: string;
    readonly stream: string;
    readonly epoch: string;
    readonly offset: number;
    /** A channel-token subscription: when it ends unless refreshed (seconds since epoch). */
    readonly exp?: number;
}
interface SubscribeOptions {
    /**
     * A channel token for a group whose rule says "token": a fixed string, or a callback the SDK
     * calls at each (re)subscribe and again before the token's exp (a refresh).
     */
    token?: string | (() => string | Promise<string>);
}
interface SubscriptionEvents {
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
interface SubscriptionOwner {
    unsubscribe(sub: Subscription): Promise<void>;
}
declare class Subscription extends Emitter<SubscriptionEvents> {
    readonly group: string;
    private readonly owner;
    readonly options: SubscribeOptions;
    readonly stream: string;
    /** "subscribing" until the first reply, "subscribed", or "closed" (refused or unsubscribed). */
    state: "subscribing" | "subscribed" | "closed";
    /** Settles with the first reply: resolved when subscribed, rejected when refused. */
    readonly ready: Promise<SubscribeResult>;
    private settle;
    constructor(group: string, owner: SubscriptionOwner, options?: SubscribeOptions);
    /** Leaves the group (on the server too when connected); no further events. */
    unsubscribe(): Promise<void>;
}

// ---- types.ts
/** A stream position: offsets are comparable only within one epoch; offset 0 = no message yet. */
interface Position {
    epoch: string;
    offset: number;
}
/** `{ "<stream>": { epoch, offset } }`, e.g. `{ "uid:42": { epoch: "k3f9a1c0", offset: 17 } }`. */
type PositionMap = Record<string, Position>;
type TokenSource = string | (() => string | Promise<string>);
interface ReconnectOptions {
    /** Base delay of the backoff, ms (default 250). */
    minDelayMs?: number;
    /** Cap of the backoff, ms (default 10 000). */
    maxDelayMs?: number;
    /** Consecutive failed reconnects before giving up (default Infinity). */
    maxAttempts?: number;
}
interface PushgateClientOptions {
    /** The server's WebSocket URL, e.g. `ws://host:1234/`. */
    url: string;
    /** jwt mode: a token, or a callback called for every (re)connect and refresh. */
    token?: TokenSource;
    /** uid mode: the uid to claim. */
    uid?: string;
    reconnect?: ReconnectOptions;
    /** Refresh the token this long before `exp`, and never later than half its remaining life (default 30 000). */
    refreshBeforeMs?: number;
    /** send() rejects with E_TIMEOUT after this long without a reply (default 10 000). */
    sendTimeoutMs?: number;
    /** A socket that has no `welcome` this long after it was created is dropped and retried (default 10 000). */
    connectTimeoutMs?: number;
    /** Positions to recover from on the first connect (e.g. a snapshot saved by positions()). */
    positions?: PositionMap;
    /** The WebSocket constructor (default: the global one). */
    WebSocket?: typeof WebSocket;
}
interface StreamState extends Position {
    stream: string;
}
interface WelcomeFrame {
    type: "welcome";
    clientId: string;
    uid: string;
    streams: StreamState[];
    /** Token expiry, seconds since epoch (jwt mode only). */
    exp?: number;
}
interface PushFrame {
    type: "push";
    stream?: string;
    epoch?: string;
    offset?: number;
    ts?: number;
    data: unknown;
}
interface RecoveryStream extends StreamState {
    recovered: boolean;
    replayed: number;
    reason?: "gap" | "epoch" | "limit" | (string & {});
}
interface RecoveryFrame {
    type: "recovery";
    complete: boolean;
    streams: RecoveryStream[];
}
interface ErrorBody {
    code: string;
    message: string;
}
interface ReplyFrame {
    type: "reply";
    id: number | string;
    delivered?: number;
    error?: ErrorBody;
}
interface RefreshedFrame {
    type: "refreshed";
    exp: number;
}
interface ErrorFrame extends ErrorBody {
    type: "error";
    id?: number | string;
}
interface PongFrame {
    type: "pong";
    id?: number | string;
}
/** A uid joined or left a group with presence (its first connection in it / its last one gone). */
interface PresenceFrame {
    type: "presence";
    group: string;
    event: "join" | "leave";
    uid: string;
}
/** A subscription the server ended (its channel token expired). */
interface UnsubscribedFrame {
    type: "unsubscribed";
    group: string;
    code: string;
    message: string;
}
type ServerFrame = WelcomeFrame | PushFrame | RecoveryFrame | ReplyFrame | RefreshedFrame | ErrorFrame | PongFrame | UnsubscribedFrame | PresenceFrame;
/**
 * What a `message` listener learns besides the data. Absent fields: the push belongs to no
 * stream (sendToClient). It is the push frame itself, passed on without copying.
 */
interface PushMeta {
    readonly stream?: string;
    readonly epoch?: string;
    readonly offset?: number;
    readonly ts?: number;
}
interface SendResult {
    /** Connections the message reached. */
    readonly delivered: number;
}
interface DisconnectInfo {
    code: number;
    reason: string;
    willReconnect: boolean;
}
interface GapInfo {
    stream: string;
    /** "gap" (history trimmed), "epoch" (history lost, or a position ahead of the stream) or "limit" (more to replay than the server's --max-recover-messages). */
    reason: string;
}
/** idle: before connect(); connecting: token / socket being opened; authenticating: auth sent;
 * connected: welcome received; reconnecting: waiting out the backoff; closed: stopped. */
type ConnectionState = "idle" | "connecting" | "authenticating" | "connected" | "reconnecting" | "closed";
/** Listener signatures per event name. */
interface PushgateEvents {
    message: (data: unknown, meta: PushMeta) => void;
    connected: (welcome: WelcomeFrame) => void;
    /** A welcomed connection was lost (once per loss: failed reconnect attempts after it are not told again). */
    disconnected: (info: DisconnectInfo) => void;
    recovered: (recovery: RecoveryFrame) => void;
    gap: (info: GapInfo) => void;
    /** A uid joined or left a group with presence that this connection is in. */
    presence: (p: PresenceFrame) => void;
    /** Server error frames without a pending send, refused tokens, giving up, protocol trouble. */
    error: (err: PushgateError) => void;
}

export { PushgateClient, SUBPROTOCOL, ClientErrorCode, PushgateError, Subscription };
export type {
  SubscribeOptions, SubscribeResult, SubscriptionEvents, ConnectionState, DisconnectInfo,
  ErrorBody, ErrorFrame, GapInfo, PongFrame, Position, PositionMap, PushFrame,
  PushgateClientOptions, PushgateEvents, PushMeta, ReconnectOptions, RecoveryFrame,
  RecoveryStream, RefreshedFrame, ReplyFrame, SendResult, ServerFrame, StreamState, TokenSource,
  PresenceFrame, UnsubscribedFrame, WelcomeFrame,
};
