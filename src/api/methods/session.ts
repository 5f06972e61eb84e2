// Gateway::setSession / updateSession / getSession and closeClient.
import type { Hub } from "../../core/hub.ts";
import { type Result, err, ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";
import { connOf } from "./membership.ts";
import { MAX_CLOSE_REASON_BYTES } from "../../protocol/frames.ts";

function checkSize(session: Record<string, unknown>, hub: Hub): Result<Record<string, unknown>> {
  const max = hub.config.maxSessionBytes;
  const bytes = Buffer.byteLength(JSON.stringify(session));
  if (bytes > max) {
    hub.metrics.limitsExceeded.incL(["max_session_bytes"]);
    return err("E_SESSION_TOO_LARGE", `session: ${bytes} bytes as JSON, over the limit of ${max} (--max-session-bytes)`, "session");
  }
  return ok(session);
}

export const setSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const session = p.object("session");
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const sized = checkSize(session, hub);
  if (!sized.ok) return sized;
  hub.effects++;
  ws.value.data.session = sized.value;
  return ok(true);
};

/** Shallow merge; a key set to null is removed. */
export const updateSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const patch = p.object("session");
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const merged: Record<string, unknown> = { ...ws.value.data.session, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === null) delete merged[k];
  const sized = checkSize(merged, hub);
  if (!sized.ok) return sized;
  hub.effects++;
  ws.value.data.session = merged;
  return ok(true);
};

export const getSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  return ws.ok ? ok(ws.value.data.session) : ws;
};

/** Optional final `message` (string as-is, else JSON), then close 1000 with `reason`. */
export const closeClient: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const message = p.has("message") ? p.data("message") : null;
  const reason = p.optionalString("reason", MAX_CLOSE_REASON_BYTES) ?? "closed by server";
  if (p.error) return p.error;
  if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    return err("E_BAD_PARAMS", `reason: must be at most ${MAX_CLOSE_REASON_BYTES} bytes as UTF-8 (close frame limit)`, "reason");
  }
  const ws = hub.clients.get(id);
  if (!ws) return ok(false);
  hub.effects++;
  if (message !== null) hub.sendToClient(id, message);
  ws.close(1000, reason);
  return ok(true);
};
