// The application's backend as the node sees it: one question at a time, answered by a JSON
// object (2xx: an answer, 4xx: a refusal) or by a stable error (E_BACKEND_TIMEOUT,
// E_BACKEND_UNAVAILABLE). Implemented by hooks/hook-client.ts (--hook-url).
import type { Result } from "./result.ts";

export type BackendKind = "connect" | "rpc" | "message" | "subscribe";

export interface BackendAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface Backend {
  post(kind: BackendKind, body: Record<string, unknown>): Promise<Result<BackendAnswer>>;
  /** The node stops: idle connections to the backend are closed. */
  close?(): void;
}
