// Requests to the application's backend (--hook-url): one JSON POST per question, over Bun's
// keep-alive fetch, each bounded by --hook-timeout, at most --hook-concurrency at once and
// --hook-queue waiting. Every failure is a stable code, never silence: E_BACKEND_TIMEOUT (no
// answer in time), E_BACKEND_UNAVAILABLE (down, queue full, 5xx, an answer that is not a JSON
// object or is over --hook-max-body). A 2xx or 4xx JSON object is the backend's answer.
import type { Backend, BackendAnswer, BackendKind } from "../core/backend.ts";
import { exceedsJsonDepth } from "../core/json-depth.ts";
import { type Result, err, ok } from "../core/result.ts";
import type { Metrics } from "../ops/metrics.ts";

type HookKind = BackendKind;
type HookAnswer = BackendAnswer;

export interface HookClientOptions {
  url: string;
  timeoutMs: number;
  concurrency: number;
  queue: number;
  maxBody: number;
  /** --max-json-depth: a deeper answer is a broken one (its cost is bounded before it is parsed). */
  maxDepth: number;
}

export class HookClient implements Backend {
  private inflight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly o: HookClientOptions, private readonly metrics: Metrics) {
    metrics.registry.add(metrics.hookQueue(() => this.waiting.length));
  }

  async post(kind: HookKind, body: Record<string, unknown>): Promise<Result<HookAnswer>> {
    if (this.inflight >= this.o.concurrency) {
      if (this.waiting.length >= this.o.queue) {
        this.count(kind, "queue_full");
        this.metrics.limitsExceeded.incL(["hook_queue"]);
        return err("E_BACKEND_UNAVAILABLE", `the backend hook has ${this.o.concurrency} requests in flight and ${this.waiting.length} waiting (--hook-concurrency, --hook-queue)`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inflight++;
    try {
      return await this.send(kind, body);
    } finally {
      this.inflight--;
      this.waiting.shift()?.();
    }
  }

  private async send(kind: HookKind, body: Record<string, unknown>): Promise<Result<HookAnswer>> {
    const t0 = performance.now();
    let res: Response;
    try {
      res = await fetch(this.o.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind, ...body }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      return this.failed(kind, e);
    }
    let text: string;
    try {
      text = await readBounded(res, this.o.maxBody);
    } catch (e) {
      return this.failed(kind, e);
    }
    this.metrics.hookDuration.observe([kind], (performance.now() - t0) / 1000);
    if (res.status >= 500) {
      this.count(kind, "error");
      return err("E_BACKEND_UNAVAILABLE", `the backend hook answered ${res.status}`);
    }
    const parsed = exceedsJsonDepth(text, this.o.maxDepth) ? null : parseObject(text);
    if (parsed === null || res.status < 200 || (res.status >= 300 && res.status < 400)) {
      this.count(kind, "error");
      return err("E_BACKEND_UNAVAILABLE", `the backend hook answered ${res.status} without a JSON object`);
    }
    this.count(kind, res.status < 300 ? "ok" : "refused");
    return ok({ status: res.status, body: parsed });
  }

  private failed(kind: HookKind, e: unknown): Result<HookAnswer> {
    const name = (e as { name?: string })?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      this.count(kind, "timeout");
      return err("E_BACKEND_TIMEOUT", `the backend hook did not answer within ${this.o.timeoutMs} ms (--hook-timeout)`);
    }
    if (e instanceof TooLarge) {
      this.count(kind, "error");
      return err("E_BACKEND_UNAVAILABLE", `the backend hook's answer is over ${this.o.maxBody} bytes (--hook-max-body)`);
    }
    this.count(kind, "unavailable");
    return err("E_BACKEND_UNAVAILABLE", `the backend hook cannot be reached: ${String((e as Error)?.message ?? e).slice(0, 120)}`);
  }

  private count(kind: HookKind, outcome: string): void {
    this.metrics.hookRequests.incL([kind, outcome]);
  }
}

class TooLarge extends Error {}

/** The body as text, refused past `max` bytes (a chunked answer is read at most that far). */
async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? -1);
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new TooLarge();
  }
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
