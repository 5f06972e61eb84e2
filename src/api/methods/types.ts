// The API method table's types: each method's node-local part and, as data, how it is routed
// across nodes (api/route.ts runs the routing; on the memory engine every route is local).
import type { Hub } from "../../core/hub.ts";
import type { Result } from "../../core/result.ts";
import type { Params } from "../params.ts";

/** A method's part on one node: validates its params and answers a Result. */
export type ApiMethod = (p: Params, hub: Hub) => Result<unknown>;
/** A push: through the engine, so its answer may come later. */
export type ApiPush = (p: Params, hub: Hub) => Result<unknown> | Promise<Result<unknown>>;

/** Merges the nodes' answers of one call. */
export type Merge = (values: unknown[]) => unknown;

export type Route =
  /** Runs here; the engine carries its pushes to the other nodes. */
  | { via: "engine" }
  /** Runs on the node that owns params.clientId; `gone`: the answer when that node has left. */
  | { via: "owner"; gone?: unknown }
  /**
   * Runs here and on every other live node, answers merged; `part`: the method each node runs.
   * `counted`: an answer the engine keeps across the nodes, when it has one (then nothing is merged).
   */
  | { via: "merge"; merge: Merge; part?: string; counted?: (body: Record<string, unknown>, hub: Hub) => Promise<Result<unknown>> | null }
  /** On the owner with params.clientId, else merged over every node. */
  | { via: "owner-or-merge"; merge: Merge }
  /** Each clientId on its owner node, one call per node. */
  | { via: "clients" }
  /** With params.clientId as "clients", else as "engine" (sendToAll). */
  | { via: "engine-or-clients" };

export interface MethodSpec {
  run: ApiMethod | ApiPush;
  route: Route;
  /** Changes state or delivers (an unknown outcome must be reported as such). */
  mutating: boolean;
  /** Answers a list (--api-max-list). */
  list?: true;
  /** Pushes (idempotencyKey, --api-max-fanout). */
  send?: true;
}
