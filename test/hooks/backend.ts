// A real backend for the hook tests: Bun.serve on port 0 whose answer to each hook request the
// test chooses, and which records what it was asked.
export interface Asked {
  kind: string;
  [k: string]: unknown;
}

export type Answer = { status?: number; body?: unknown; raw?: string; delayMs?: number };

export class Backend implements Disposable {
  readonly asked: Asked[] = [];
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor(answer: (q: Asked) => Answer | Promise<Answer>) {
    this.server = Bun.serve({
      port: 0, hostname: "127.0.0.1",
      fetch: async (req) => {
        const q = (await req.json()) as Asked;
        this.asked.push(q);
        const a = await answer(q);
        if (a.delayMs) await Bun.sleep(a.delayMs);
        return new Response(a.raw ?? JSON.stringify(a.body ?? {}), { status: a.status ?? 200, headers: { "content-type": "application/json" } });
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/hook`;
  }

  [Symbol.dispose](): void {
    this.server.stop(true);
  }
}

/** A WebSocket with request headers (Bun's client takes them), its frames queued. */
export class HeaderClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly queue: string[] = [];
  private waiter: ((m: string) => void) | null = null;

  constructor(port: number, headers: Record<string, string>, protocol?: string) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers, protocols: protocol ? [protocol] : [] } as unknown as string[]);
    const opened = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<{ code: number; reason: string }>();
    this.opened = opened.promise;
    this.closed = closed.promise;
    this.ws.onopen = () => opened.resolve();
    this.ws.onclose = (e) => { opened.reject(new Error(`closed ${e.code}`)); closed.resolve({ code: e.code, reason: e.reason }); };
    this.opened.catch(() => {});
    this.ws.onmessage = (e) => {
      const m = String(e.data);
      if (this.waiter) { const w = this.waiter; this.waiter = null; w(m); } else this.queue.push(m);
    };
  }

  next(ms = 3000): Promise<string> {
    const q = this.queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiter = null; reject(new Error(`no message within ${ms} ms`)); }, ms);
      this.waiter = (m) => { clearTimeout(t); resolve(m); };
    });
  }

  send(x: string): void {
    this.ws.send(x);
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close();
  }
}
