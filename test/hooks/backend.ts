// A real backend for the hook tests: Bun.serve on port 0 whose answer to each hook request the
// test chooses, and which records what it was asked.
import { TestClient } from "../helpers.ts";

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

/** TestClient to ws://127.0.0.1:<port>/ with request headers and a protocol; next() waits 3000 ms. */
export class HeaderClient extends TestClient {
  constructor(port: number, headers: Record<string, string>, protocol?: string) {
    super(`ws://127.0.0.1:${port}/`, { headers, protocols: protocol ? [protocol] : [], nextMs: 3000 });
  }
}
