// The answers for Redis faults, with what is known and what is not (never a definite outcome
// that was not seen): unreachable or not answering before anything was sent
// (E_CLUSTER_UNAVAILABLE), and a command sent whose reply did not come (E_CLUSTER_TIMEOUT).
import { type Err, err } from "../../core/result.ts";
import type { Shard } from "./shard.ts";

/** `what`: what this node did alone (a push: "delivered on this node only"). `sharded`: say which shard. */
export function unavailable(shard: Shard, timeoutMs: number, sharded: boolean, what = "answered for this node only"): Err {
  const which = sharded ? ` (shard ${shard.opts.label})` : "";
  if (shard.linked && !shard.answers.answering) {
    return err("E_CLUSTER_UNAVAILABLE", `Redis${which} is not answering (nothing within ${timeoutMs} ms, --cluster-timeout): ${what}; other nodes were not reached`);
  }
  return err("E_CLUSTER_UNAVAILABLE", `Redis${which} is unreachable: ${what}; other nodes were not reached`);
}

/** A command written to Redis whose reply was lost with its connection. */
export function lost(what: string, e: unknown): Err {
  return err("E_CLUSTER_TIMEOUT", `the Redis connection failed after ${what} was sent (${String(e).slice(0, 120)}): it may or may not have run (outcome unknown)`);
}

/** A command Redis got but did not answer in time. */
export function noAnswer(what: string, timeoutMs: number): Err {
  return err("E_CLUSTER_TIMEOUT", `Redis did not answer ${what} within ${timeoutMs} ms (--cluster-timeout): it may still run when Redis does, or never`);
}
