// Counted before anything runs, so a request's work is bounded by documented numbers — a batch's
// calls together, not each one:
// - --api-max-targets: the uids, groups and clientIds a request names (push and membership
//   targets); an `exclude` entry counts once per stream it is applied to (each stream's publish
//   unsubscribes and resubscribes every excluded connection).
// - --api-max-memberships: the group memberships it may change, read from the hub's counts
//   (joinGroup/leaveGroup by uid: the uid's connections; ungroup: the group's members).
import type { Hub } from "../core/hub.ts";
import { type Result, err, ok } from "../core/result.ts";

const count = (v: unknown): number => (v === undefined ? 0 : Array.isArray(v) ? v.length : 1);

/** Targets named by one call's params. */
export function targetsOf(params: Record<string, unknown>): number {
  const groups = count(params.group);
  return count(params.uid) + count(params.clientId) + groups + count(params.exclude) * Math.max(1, groups);
}

/** Memberships one call may change on this node (other nodes bound their own part). */
export function membershipsOf(method: string, params: Record<string, unknown>, hub: Hub): number {
  if (method === "ungroup") return typeof params.group === "string" ? hub.members.groups.count(params.group) : 0;
  if (method !== "joinGroup" && method !== "leaveGroup") return 0;
  if (params.clientId !== undefined) return 1;
  return typeof params.uid === "string" ? hub.members.uids.count(params.uid) : 0;
}

/** Both counts over a batch's calls (malformed calls count 0: they fail on their own). */
export function batchCounts(calls: readonly unknown[], hub: Hub): { targets: number; memberships: number } {
  let targets = 0;
  let memberships = 0;
  for (const c of calls) {
    if (c === null || typeof c !== "object") continue;
    const { method, params } = c as { method?: unknown; params?: unknown };
    if (params === null || typeof params !== "object" || Array.isArray(params)) continue;
    const p = params as Record<string, unknown>;
    targets += targetsOf(p);
    if (typeof method === "string") memberships += membershipsOf(method, p, hub);
  }
  return { targets, memberships };
}

/** The refusal for a request over either count, or null; `field` names what carried it. */
export function checkCounts(targets: number, memberships: number, hub: Hub, field: string): Result<null> {
  const cfg = hub.config;
  if (targets > cfg.apiMaxTargets) {
    hub.metrics.limitsExceeded.incL(["api_max_targets"]);
    return err("E_TOO_MANY_TARGETS", `${field}: ${targets} uids, groups and clientIds named, over the limit of ${cfg.apiMaxTargets} (--api-max-targets)`, field);
  }
  if (memberships > cfg.apiMaxMemberships) {
    hub.metrics.limitsExceeded.incL(["api_max_memberships"]);
    return err("E_TOO_MANY_TARGETS", `${field}: would change ${memberships} group memberships, over the limit of ${cfg.apiMaxMemberships} (--api-max-memberships)`, field);
  }
  return ok(null);
}
