// Gateway::sendTo* — each answers { reached } (connections the push reached); sendToUid and
// sendToClient also list the `offline` targets. An optional idempotencyKey makes a retry answer
// the first result without delivering again.
import { type Result, err, ok } from "../../core/result.ts";
import type { Params } from "../params.ts";
import type { ApiMethod } from "./types.ts";

const MAX_KEY_LENGTH = 256;

/** Wraps a send method with idempotencyKey handling. */
function idempotent(name: string, method: ApiMethod): ApiMethod {
  return (p, hub) => {
    if (!p.has("idempotencyKey")) return method(p, hub);
    const key = p.body.idempotencyKey;
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return err("E_BAD_PARAMS", `idempotencyKey: must be a string of 1..${MAX_KEY_LENGTH} characters`, "idempotencyKey");
    }
    const seen = hub.idempotency.get(key);
    if (seen) {
      if (seen.method !== name) {
        return err("E_IDEMPOTENCY_CONFLICT", `idempotencyKey: already used by ${seen.method}`, "idempotencyKey");
      }
      hub.metrics.idempotentHits.inc();
      return ok(seen.result);
    }
    const r: Result<unknown> = method(p, hub);
    if (r.ok) hub.idempotency.set(key, name, r.value);
    return r;
  };
}

export const sendToUid = idempotent("sendToUid", (p: Params, hub) => {
  const uids = p.uids("uid");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  const offline: string[] = [];
  for (const uid of uids) {
    const n = hub.sendToUid(uid, data);
    if (n === 0) offline.push(uid);
    reached += n;
  }
  return ok({ reached, offline });
});

export const sendToClient = idempotent("sendToClient", (p, hub) => {
  const ids = p.clientIds("clientId");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  const offline: string[] = [];
  for (const id of ids) {
    const n = hub.sendToClient(id, data);
    if (n === 0) offline.push(id);
    reached += n;
  }
  return ok({ reached, offline });
});

export const sendToGroup = idempotent("sendToGroup", (p, hub) => {
  const groups = p.groups("group");
  const data = p.data();
  const exclude = p.exclude(hub);
  if (p.error) return p.error;
  let reached = 0;
  for (const g of groups) reached += hub.sendToGroup(g, data, exclude);
  return ok({ reached });
});

export const sendToAll = idempotent("sendToAll", (p, hub) => {
  const data = p.data();
  const exclude = p.exclude(hub);
  if (p.error) return p.error;
  return ok({ reached: hub.sendToAll(data, exclude) });
});
