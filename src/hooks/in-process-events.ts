// The in-process `close`, `online` and `offline` hooks (GatewayWorker's onClose, plus presence):
// told after the fact, so nothing waits for them. A hook that throws or runs past --hook-timeout
// is logged and counted (pushgate_hook_requests_total{kind,outcome}); it cannot hurt the
// connection or the server.
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Hooks } from "./in-process.ts";
import type { PresenceListener } from "./presence.ts";

export interface CloseEvent {
  clientId: string;
  uid: string;
  code: number;
  reason: string;
  session: Record<string, unknown> | null;
}

type Kind = "close" | "online" | "offline";

export class InProcessEvents implements PresenceListener {
  constructor(private readonly hooks: Hooks, private readonly timeoutMs: number, private readonly metrics: Metrics, private readonly log: Logger) {}

  closed(ev: CloseEvent): void {
    if (this.hooks.close) this.run("close", () => this.hooks.close!(ev));
  }

  online(uid: string): void {
    if (this.hooks.online) this.run("online", () => this.hooks.online!({ uid }));
  }

  offline(uid: string): void {
    if (this.hooks.offline) this.run("offline", () => this.hooks.offline!({ uid }));
  }

  private run(kind: Kind, call: () => void | Promise<void>): void {
    const t0 = performance.now();
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      this.metrics.hookRequests.incL([kind, "timeout"]);
      this.log.warn("hook_timeout", { kind, timeoutMs: this.timeoutMs });
    }, this.timeoutMs);
    timer.unref();
    void Promise.resolve().then(call).then(
      () => {
        clearTimeout(timer);
        if (late) return;
        this.metrics.hookRequests.incL([kind, "ok"]);
        this.metrics.hookDuration.observe([kind], (performance.now() - t0) / 1000);
      },
      (e) => {
        clearTimeout(timer);
        this.metrics.hookRequests.incL([kind, "error"]);
        this.log.error("hook_error", { kind, error: String(e).slice(0, 200) });
      },
    );
  }
}
