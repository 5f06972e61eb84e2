// The handlers an engine has until the node registers its own (Engine.register): deliveries
// reach nobody, a call is answered with `refusal`.
import type { Err } from "../core/result.ts";
import type { EngineHandlers } from "./types.ts";

export function noHandlers(refusal: Err): EngineHandlers {
  return {
    deliver: () => 0,
    observed: () => false,
    call: async () => refusal,
    connections: () => 0,
    uids: () => [],
    presence: () => {},
    joinLeave: () => false,
    holdsMember: () => false,
    members: () => [],
    signal: () => {},
  };
}
