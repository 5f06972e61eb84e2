// Gateway::sendTo* — each answers { reached } (connections the push reached); sendToUid and
// sendToClient also list the `offline` targets. A push goes through the engine (hub.publish):
// answered at once on the memory engine, when every node holding the stream has reported on
// the Redis engine. A target whose outcome is not known (a node got the push and did not
// confirm in time) is listed in `timedOut`, never in `offline`; `error` says why.
import type { Hub, PublishKind } from "../../core/hub.ts";
import { type Err, type Result, ok } from "../../core/result.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../../core/topics.ts";
import type { Published } from "../../engine/types.ts";
import type { Payload } from "../../history/types.ts";
import type { ApiMethod, ApiPush } from "./types.ts";

type Outcome = number | Published;

export const sendToUid: ApiPush = (p, hub) => {
  const uids = p.uids("uid");
  const data = p.data();
  if (p.error) return p.error;
  return pushAll(hub, uids, uidTopic, "uid", data, null, true);
};

export const sendToGroup: ApiPush = (p, hub) => {
  const groups = p.groups("group");
  const data = p.data();
  const exclude = p.excludeIds();
  if (p.error) return p.error;
  return pushAll(hub, groups, groupTopic, "group", data, exclude, false);
};

/** With `clientId` (a list, GatewayWorker's $client_id_array): only those connections, as sendToClient. */
export const sendToAll: ApiPush = (p, hub) => {
  if (p.has("clientId")) return sendToClient(p, hub);
  const data = p.data();
  const exclude = p.excludeIds();
  if (p.error) return p.error;
  return pushAll(hub, [TOPIC_ALL], (s) => s, "all", data, exclude, false);
};

/**
 * Direct pushes to connections of this node (api/route.ts sends each clientId to its owner).
 * `exclude` (sendToAll's) is taken out of the list.
 */
export const sendToClient: ApiMethod = (p, hub) => {
  const listed = p.clientIds("clientId");
  const data = p.data();
  const exclude = p.excludeIds();
  if (p.error) return p.error;
  const ids = without(listed, exclude);
  let reached = 0;
  const offline: string[] = [];
  for (const id of ids) {
    const n = hub.sendToClient(id, data);
    if (n === 0) offline.push(id);
    reached += n;
  }
  return ok({ reached, offline });
};

/** One publish per distinct target, concurrently (order holds per stream). */
function pushAll(
  hub: Hub, targets: readonly string[], stream: (t: string) => string, kind: PublishKind,
  data: Payload, exclude: readonly string[] | null, listOffline: boolean,
): Result<unknown> | Promise<Result<unknown>> {
  const outcomes: Outcome[] = [];
  let later = false;
  for (const t of targets) {
    const r = hub.publish(stream(t), kind, data, exclude, true);
    if (r instanceof Promise) later = true;
    outcomes.push(r as Outcome);
  }
  if (!later) return answer(targets, outcomes, listOffline);
  return Promise.all(outcomes).then((all) => answer(targets, all, listOffline));
}

function answer(targets: readonly string[], outcomes: readonly Outcome[], listOffline: boolean): Result<unknown> {
  let reached = 0;
  let error: Err | null = null;
  const offline: string[] = [];
  const timedOut: string[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    const n = typeof o === "number" ? o : o.reached;
    const e = typeof o === "number" ? null : o.error;
    reached += n;
    error ??= e;
    if (e?.code === "E_CLUSTER_TIMEOUT") timedOut.push(targets[i]!);
    else if (n === 0 && e === null) offline.push(targets[i]!);
  }
  const out: Record<string, unknown> = listOffline ? { reached, offline } : { reached };
  if (timedOut.length > 0) out.timedOut = timedOut;
  if (error) out.error = { code: error.code, message: error.message };
  return ok(out);
}

/** `ids` without the `exclude` ones (sendToAll's exclude beside a clientId list). */
export function without(ids: readonly string[], exclude: readonly string[] | null): string[] {
  if (exclude === null || exclude.length === 0) return [...ids];
  const skip = new Set(exclude);
  return ids.filter((id) => !skip.has(id));
}
