// HTTP API calls of the soak's load processes: POST /api/<method> over http-client.ts's keep-alive
// pool, with a per-call time limit (the pool has none), the answer parsed.
import { HttpPool } from "../lib/http-client.ts";

export interface ApiAnswer {
  status: number;
  /** `result` of a 200 answer. */
  result?: unknown;
  /** `error.code` of a failure answer (or E_UNPARSABLE when the body is not the API's JSON). */
  code?: string;
}

export class TimeoutError extends Error {}

export class Api {
  readonly pool: HttpPool;

  constructor(host: string, port: number, maxSockets: number) {
    this.pool = new HttpPool(host, port, maxSockets);
  }

  /** Rejects on a connection error, a full pool (`more than N requests in flight`) or after ms. */
  async call(method: string, params: unknown, ms = 5000): Promise<ApiAnswer> {
    let timer: Timer | undefined;
    const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(`${method}: no answer within ${ms} ms`)), ms); });
    try {
      const a = await Promise.race([this.pool.post(`/api/${method}`, JSON.stringify(params)), limit]);
      try {
        const body = JSON.parse(a.body) as { result?: unknown; error?: { code?: string } };
        return a.status === 200 && "result" in body ? { status: a.status, result: body.result } : { status: a.status, code: body.error?.code ?? "E_UNPARSABLE" };
      } catch {
        return { status: a.status, code: "E_UNPARSABLE" };
      }
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.pool.close();
  }
}

/** Counts by key (error codes, close codes), for the reports. */
export function bump(m: Record<string, number>, key: string, by = 1): void {
  m[key] = (m[key] ?? 0) + by;
}
