// The page's calls: /admin/api/* and the HTTP API, each with the key in an Authorization
// header (never in a URL), each bounded by a timeout.
import type { ClusterStats, Lookup } from "../cluster.ts";

const TIMEOUT_MS = 10_000;

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export type PushKind = "uid" | "group" | "clientId" | "all";

export interface LookupAnswer extends Lookup {
  uid?: string;
  clientId?: string;
}

export class AdminApi {
  constructor(private readonly key: string) {}

  stats(events: number): Promise<ClusterStats> {
    return this.call("GET", `/admin/api/stats?events=${events}`);
  }

  lookup(by: "uid" | "clientId", value: string): Promise<LookupAnswer> {
    return this.call("GET", `/admin/api/lookup?${new URLSearchParams({ [by]: value })}`);
  }

  /** A push through the HTTP API (it counts as an API call, like any backend's). */
  push(kind: PushKind, target: string, data: unknown): Promise<{ reached: number; offline?: string[] }> {
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
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    let json: { result?: T; error?: { code: string; message: string } };
    try {
      json = (await res.json()) as typeof json;
    } catch {
      throw new ApiError(res.status, "E_BAD_JSON", `HTTP ${res.status}: not a JSON answer`);
    }
    if (json.error) throw new ApiError(res.status, json.error.code, json.error.message);
    return json.result as T;
  }
}
