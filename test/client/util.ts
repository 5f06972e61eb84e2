// Shared bits of the client SDK tests: the ws:// URL of a test server, awaiting one event, and
// clients that are closed after each test.
import { PushgateClient } from "../../src/client/index.ts";
import type { PushgateClientOptions, PushgateEvents } from "../../src/client/index.ts";

export function wsUrl(pg: { port: number }): string {
  return `ws://127.0.0.1:${pg.port}/`;
}

/** The arguments of the next `event` (the first one), or a rejection after `ms`. */
export function nextEvent<K extends keyof PushgateEvents>(
  client: PushgateClient, event: K, ms = 3000,
): Promise<Parameters<PushgateEvents[K]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${String(event)}" event within ${ms} ms`));
    }, ms);
    const off = client.once(event, ((a: Parameters<PushgateEvents[K]>[0]) => {
      clearTimeout(timer);
      resolve(a);
    }) as PushgateEvents[K]);
  });
}

/** Creates clients and closes them all in afterEach. */
export class Clients {
  private readonly all: PushgateClient[] = [];

  make(options: PushgateClientOptions): PushgateClient {
    const c = new PushgateClient(options);
    this.all.push(c);
    return c;
  }

  closeAll(): void {
    for (const c of this.all.splice(0)) c.close();
  }
}

/** Records every `message` as [data, meta] pairs. */
export function recordMessages(client: PushgateClient): Array<{ data: unknown; stream?: string; epoch?: string; offset?: number; ts?: number }> {
  const out: Array<{ data: unknown; stream?: string; epoch?: string; offset?: number; ts?: number }> = [];
  client.on("message", (data, meta) => {
    out.push({ data, stream: meta.stream, epoch: meta.epoch, offset: meta.offset, ts: meta.ts });
  });
  return out;
}
