// In-process hooks for TypeScript users who embed pushgate (`createPushgate(config, { hooks })`),
// GatewayWorker's `Events` in TypeScript: `connect` decides a login, `rpc` answers a
// pushgate.v1 `rpc` frame; `close`, `online` and `offline` are told (in-process-events.ts). They stand where the HTTP backend would (the same Backend contract,
// so the same answers, limits and metrics): sync or async, bounded by --hook-timeout; a hook
// that throws or is too slow answers the client with an error, never kills its connection
// silently or the server.
import type { Backend, BackendAnswer, BackendKind } from "../core/backend.ts";
import { type Result, err, ok } from "../core/result.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { CloseEvent } from "./in-process-events.ts";

/** What `connect` is given (the same fields the HTTP connect hook gets). */
export interface ConnectRequest {
  credential: string;
  clientId: string;
  protocol: "seed" | "v1";
  ip: string;
  headers: Readonly<Record<string, string>>;
}

/** Admit (`uid`, optional groups, session, expiresAt in ms since epoch) or refuse (`error`). */
export type ConnectAnswer =
  | { uid: string; groups?: string[]; session?: Record<string, unknown>; expiresAt?: number }
  | { error: string };

export interface RpcCall {
  clientId: string;
  uid: string | null;
  method: string;
  data: unknown;
}

export interface SubscribeRequest {
  clientId: string;
  uid: string | null;
  group: string;
}

export interface MessageEvent {
  clientId: string;
  uid: string | null;
  message: string;
}

export interface Hooks {
  /** Decides each login (with `auth: "hook"`). */
  connect?(req: ConnectRequest): ConnectAnswer | Promise<ConnectAnswer>;
  /** Answers an `rpc` frame: the value is the reply's `result`; a throw is the reply's E_BACKEND_ERROR. */
  rpc?(call: RpcCall): unknown;
  /** A seed frame after login (with seedMessages "backend"); a string return is sent back to that connection. */
  message?(ev: MessageEvent): string | void | Promise<string | void>;
  /**
   * Decides a pushgate.v1 `subscribe` to a group whose --channel-rules rule says "hook":
   * true (or nothing) admits, false or `{ error }` refuses with that reason.
   */
  subscribe?(req: SubscribeRequest): boolean | void | { error: string } | Promise<boolean | void | { error: string }>;
  /** A logged-in connection closed (GatewayWorker's onClose). Told after the fact: nothing waits for it. */
  close?(ev: CloseEvent): void | Promise<void>;
  /**
   * A uid's first connection (on a cluster: anywhere; told on the node whose login made it) and
   * its last one gone for --webhook-debounce (on a cluster: told on the node that sweeps).
   */
  online?(ev: { uid: string }): void | Promise<void>;
  offline?(ev: { uid: string }): void | Promise<void>;
}

export class InProcessBackend implements Backend {
  constructor(private readonly hooks: Hooks, private readonly timeoutMs: number, private readonly metrics: Metrics, private readonly log: Logger) {}

  async post(kind: BackendKind, body: Record<string, unknown>): Promise<Result<BackendAnswer>> {
    const hook = kind === "connect" ? this.hooks.connect : kind === "rpc" ? this.hooks.rpc : kind === "subscribe" ? this.hooks.subscribe : this.hooks.message;
    if (!hook) {
      this.metrics.hookRequests.incL([kind, "unavailable"]);
      return err("E_BACKEND_UNAVAILABLE", `no ${kind} hook is registered`);
    }
    const t0 = performance.now();
    const timer = Promise.withResolvers<"timeout">();
    const t = setTimeout(() => timer.resolve("timeout"), this.timeoutMs);
    try {
      const value = await Promise.race([Promise.resolve().then(() => hook.call(this.hooks, body as never)), timer.promise]);
      if (value === "timeout") {
        this.metrics.hookRequests.incL([kind, "timeout"]);
        return err("E_BACKEND_TIMEOUT", `the ${kind} hook did not answer within ${this.timeoutMs} ms (--hook-timeout)`);
      }
      this.metrics.hookDuration.observe([kind], (performance.now() - t0) / 1000);
      if (kind === "rpc") {
        this.metrics.hookRequests.incL([kind, "ok"]);
        return ok({ status: 200, body: { result: value === undefined ? null : value } });
      }
      if (kind === "subscribe") {
        const refusal = value === false ? "refused" : value !== null && typeof value === "object" && "error" in value ? String((value as { error: unknown }).error) : null;
        this.metrics.hookRequests.incL([kind, refusal === null ? "ok" : "refused"]);
        return ok(refusal === null ? { status: 200, body: {} } : { status: 403, body: { error: { message: refusal } } });
      }
      if (kind === "message") {
        this.metrics.hookRequests.incL([kind, "ok"]);
        return ok({ status: 200, body: typeof value === "string" ? { reply: value } : {} });
      }
      const a = value as Record<string, unknown> | null;
      if (a === null || typeof a !== "object") {
        this.metrics.hookRequests.incL([kind, "error"]);
        return err("E_BACKEND_UNAVAILABLE", "the connect hook returned no object");
      }
      const refused = a.error !== undefined;
      this.metrics.hookRequests.incL([kind, refused ? "refused" : "ok"]);
      return ok({ status: refused ? 403 : 200, body: a });
    } catch (e) {
      this.log.error("hook_error", { kind, error: String(e) });
      if (kind !== "connect") {
        this.metrics.hookRequests.incL([kind, "refused"]);
        return ok({ status: 422, body: { error: { message: String((e as Error)?.message ?? e).slice(0, 200) } } });
      }
      this.metrics.hookRequests.incL([kind, "error"]);
      return err("E_BACKEND_UNAVAILABLE", "the connect hook threw");
    } finally {
      clearTimeout(t);
    }
  }
}
