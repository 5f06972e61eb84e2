// The reconnect loop under PushgateClient: gets a token, opens a socket, sends `auth`, and after
// a close decides between reconnecting (backoff, or at once after 4001) and stopping for good.
// What the frames mean is left to the subclass.

import { Backoff } from "./backoff.ts";
import { closeDecision, isCredentialRefusal, reasonCode } from "./close-policy.ts";
import { Emitter } from "./emitter.ts";
import { ClientErrorCode, PushgateError } from "./errors.ts";
import { type ResolvedOptions, resolveOptions } from "./options.ts";
import { resolveToken } from "./refresh.ts";
import { Socket } from "./socket.ts";
import type { ConnectionState, PositionMap, PushgateClientOptions, PushgateEvents, WelcomeFrame } from "./types.ts";

interface Waiter {
  promise: Promise<WelcomeFrame>;
  resolve: (w: WelcomeFrame) => void;
  reject: (e: PushgateError) => void;
}

export abstract class Connection extends Emitter<PushgateEvents> {
  protected readonly o: ResolvedOptions;
  protected sock: Socket | null = null;
  protected status: ConnectionState = "idle";
  private current: WelcomeFrame | null = null;
  private readonly backoff: Backoff;
  /** True before connect() and after close() or giving up: nothing reconnects. */
  private stopped = true;
  /** Bumped by every attempt and by stop(), so a late token answer knows it is stale. */
  private generation = 0;
  private waiter: Waiter | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** A welcomed connection is up: `disconnected` tells its loss, once — not every failed attempt after it. */
  private live = false;
  /** Credential refusals (1008) since the last welcome: a token callback gets one more try, then it stops. */
  private refusals = 0;

  constructor(options: PushgateClientOptions) {
    super();
    this.o = resolveOptions(options);
    this.backoff = new Backoff(this.o.reconnect);
  }

  /** The `recover` map of the next `auth` (undefined: nothing to recover). */
  protected abstract recoverMap(): PositionMap | undefined;
  protected abstract onText(text: string): void;
  /** The socket is gone, by either side: fail what waited on it. */
  protected abstract onSocketGone(reason: string): void;

  get url(): string {
    return this.o.url;
  }

  get state(): ConnectionState {
    return this.status;
  }

  /** The welcome of the current connection, or null while not connected. */
  get welcome(): WelcomeFrame | null {
    return this.current;
  }

  /** Resolves on the next welcome (at once when connected); rejects when the client gives up or close() is called. */
  connect(): Promise<WelcomeFrame> {
    if (this.status === "connected" && this.current) return Promise.resolve(this.current);
    if (this.waiter) return this.waiter.promise;
    const w = {} as Waiter;
    w.promise = new Promise<WelcomeFrame>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    this.waiter = w;
    if (this.stopped) {
      this.stopped = false;
      this.backoff.reset();
      this.attempt();
    }
    return w.promise;
  }

  /** Closes cleanly: no reconnect; pending sends reject with E_DISCONNECTED. connect() starts over. */
  close(reason = "client closed"): void {
    const sock = this.sock;
    this.stop();
    this.live = false;
    this.refusals = 0;
    this.onSocketGone(reason);
    this.takeWaiter()?.reject(new PushgateError(ClientErrorCode.DISCONNECTED, `${reason} before a welcome`));
    if (sock === null) return;
    sock.dispose(1000, reason);
    this.emit("disconnected", { code: 1000, reason, willReconnect: false });
  }

  /** Called by the subclass on `welcome`: the attempt succeeded. */
  protected welcomed(f: WelcomeFrame): void {
    this.sock?.welcomed();
    this.current = f;
    this.status = "connected";
    this.live = true;
    this.refusals = 0;
    this.backoff.reset();
    const w = this.takeWaiter();
    this.emit("connected", f);
    w?.resolve(f);
  }

  private attempt(): void {
    const gen = ++this.generation;
    this.status = "connecting";
    const source = this.o.token;
    if (typeof source !== "function") return this.dial(source);
    resolveToken(source).then(
      (token) => {
        if (gen === this.generation) this.dial(token);
      },
      (err) => {
        if (gen !== this.generation) return;
        this.emit("error", new PushgateError(ClientErrorCode.TOKEN, `token callback failed: ${errText(err)}`));
        if (gen === this.generation) this.after(this.backoff.next(), null, null); // unless a listener closed us
      },
    );
  }

  private dial(token: string | undefined): void {
    let sock: Socket;
    try {
      sock = new Socket(this.o.WebSocket, this.o.url, this.o.connectTimeoutMs, {
        open: () => {
          this.status = "authenticating";
          const auth: { type: "auth"; token?: string; uid?: string; recover?: PositionMap } = { type: "auth" };
          if (token !== undefined) auth.token = token;
          if (this.o.uid !== undefined) auth.uid = this.o.uid;
          const recover = this.recoverMap();
          if (recover !== undefined) auth.recover = recover;
          sock.send(JSON.stringify(auth));
        },
        text: (data) => this.onText(data),
        close: (code, reason) => this.lost(code, reason),
        error: (err) => this.emit("error", err),
      });
    } catch (err) {
      this.after(null, new PushgateError(ClientErrorCode.PROTOCOL, `cannot open ${this.o.url}: ${errText(err)}`), null);
      return;
    }
    this.sock = sock;
  }

  /** The socket closed (server, network, or no welcome in time): reconnect or stop. */
  private lost(code: number, reason: string): void {
    this.sock = null;
    this.current = null;
    this.onSocketGone(`connection closed (${code}${reason ? ` ${reason}` : ""})`);
    const closed = { code, reason };
    // Refused credentials: a token callback gets one more try with a fresh token, then it stops
    // (connect() rejects) — the same refusal would come again and again.
    const refused = isCredentialRefusal(code, reason);
    if (refused) this.refusals++;
    const decision = refused && this.refusals > 1 ? "fatal" : closeDecision(code, reason, typeof this.o.token === "function");
    if (decision === "fatal") {
      const c = reasonCode(reason) ?? "E_AUTH_FAILED";
      // The reason starts with its code already ("E_AUTH_FAILED: …"): not twice in the message.
      this.after(null, new PushgateError(c, reason.startsWith(`${c}: `) ? reason.slice(c.length + 2) : reason), closed);
    } else this.after(decision === "now" ? this.backoff.immediate() : this.backoff.next(), null, closed);
  }

  /**
   * Arms the next attempt after `delay` ms, or stops with `err` (E_GAVE_UP when `delay` is null
   * without one). State is settled before listeners run, so they may call close() or connect().
   */
  private after(delay: number | null, err: PushgateError | null, closed: { code: number; reason: string } | null): void {
    if (err === null && delay !== null) {
      this.status = "reconnecting";
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.attempt();
      }, delay);
      if (closed && this.live) {
        this.live = false;
        this.emit("disconnected", { code: closed.code, reason: closed.reason, willReconnect: true });
      }
      return;
    }
    const error = err ?? new PushgateError(ClientErrorCode.GAVE_UP, `no connection after ${this.backoff.attempt} reconnect attempts`);
    this.stop();
    const w = this.takeWaiter();
    if (closed && this.live) this.emit("disconnected", { code: closed.code, reason: closed.reason, willReconnect: false });
    this.live = false;
    this.emit("error", error);
    w?.reject(error);
  }

  private stop(): void {
    this.stopped = true;
    this.generation++;
    this.status = "closed";
    this.sock = null;
    this.current = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private takeWaiter(): Waiter | null {
    const w = this.waiter;
    this.waiter = null;
    return w;
  }
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
