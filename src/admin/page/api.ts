// The page's calls: /admin/api/* and the HTTP API, each with the key in an Authorization
// header (never in a URL), each bounded by a timeout: longer than the node's --cluster-timeout
// (an answer may wait that long for another node), which each stats answer tells.
import type { ClusterStats, Lookup } from "../cluster.ts";

/** At least this long; and before the first answer tells the node's --cluster-timeout, the option's ceiling. */
const MIN_TIMEOUT_MS = 10_000;
/** --cluster-timeout's largest value (src/config/spec.ts) plus SLACK_MS: a login on a slow cluster is not cut short. */
const FIRST_TIMEOUT_MS = 65_000;
/** On top of --cluster-timeout: the node's own work and the network. */
const SLACK_MS = 5_000;

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly outcome: "unknown" | null = null) {
    super(message);
  }
}

export type PushKind = "uid" | "group" | "clientId" | "all";

export interface LookupAnswer extends Lookup {
  uid?: string;
  clientId?: string;
}

/** A send's result (docs/http-api.md): `timedOut` and `error` when not every outcome is known. */
export interface PushAnswer {
  reached: number;
  offline?: string[];
  timedOut?: string[];
  error?: { code: string; message: string };
}

export class AdminApi {
  private timeoutMs = FIRST_TIMEOUT_MS;

  constructor(private readonly key: string) {}

  async stats(events: number): Promise<ClusterStats> {
    const s = await this.call<ClusterStats>("GET", `/admin/api/stats?events=${events}`);
    if (typeof s.timeoutMs === "number") this.timeoutMs = Math.max(MIN_TIMEOUT_MS, s.timeoutMs + SLACK_MS);
    return s;
  }

  lookup(by: "uid" | "clientId", value: string): Promise<LookupAnswer> {
    return this.call("GET", `/admin/api/lookup?${new URLSearchParams({ [by]: value })}`);
  }

  /** A push through the HTTP API (it counts as an API call, like any backend's). */
  push(kind: PushKind, target: string, data: unknown): Promise<PushAnswer> {
    switch (kind) {
      case "uid": return this.call("POST", "/api/sendToUid", { uid: target, data });
      case "group": return this.call("POST", "/api/sendToGroup", { group: target, data });
      case "clientId": return this.call("POST", "/api/sendToClient", { clientId: target, data });
      case "all": return this.call("POST", "/api/sendToAll", { data });
    }
  }

  private async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    let json: { result?: T; error?: { code: string; message: string; outcome?: string } };
    try {
      json = (await res.json()) as typeof json;
    } catch {
      throw new ApiError(res.status, "E_BAD_JSON", `HTTP ${res.status}: not a JSON answer`);
    }
    const e = json.error;
    if (e) throw new ApiError(res.status, e.code, e.message, e.outcome === "unknown" ? "unknown" : null);
    return json.result as T;
  }
}
