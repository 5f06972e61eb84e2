import type { Hub } from "../../core/hub.ts";
import type { Result } from "../../core/result.ts";
import type { Params } from "../params.ts";

/** An API method: synchronous, validates its params and answers a Result. */
export type ApiMethod = (p: Params, hub: Hub) => Result<unknown>;
