// Gateway::setSession / updateSession / getSession and closeClient.
import type { Hub } from "../../core/hub.ts";
import { type Err, type Result, err, ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";
import { connOf } from "./membership.ts";
import { MAX_CLOSE_REASON_BYTES } from "../../protocol/frames.ts";

function checkSize(session: Record<string, unknown>, hub: Hub): Result<Record<string, unknown>> {
  const bytes = Buffer.byteLength(JSON.stringify(session));
  return bytes > hub.config.maxSessionBytes ? tooLarge(hub, String(bytes)) : ok(session);
}

function tooLarge(hub: Hub, bytes: string): Err {
  hub.metrics.limitsExceeded.incL(["max_session_bytes"]);
  return err("E_SESSION_TOO_LARGE", `session: ${bytes} bytes as JSON, over the limit of ${hub.config.maxSessionBytes} (--max-session-bytes)`, "session");
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

/**
 * Shallow merge; a key set to null is removed. The merged session holds at least the patch's
 * non-null entries (4 bytes of JSON each at the least), so a patch with too many of them is
 * refused before the merge; the merge itself builds a new object once (no `delete`, which is
 * slow on large objects).
 */
export const updateSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const patch = p.object("session");
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const keys = Object.keys(patch);
  let kept = 0;
  for (const k of keys) if (patch[k] !== null) kept++;
  if (kept * 4 > hub.config.maxSessionBytes) return tooLarge(hub, `at least ${kept * 4}`);
  const current = ws.value.data.session ?? {};
  const entries: [string, unknown][] = [];
  for (const k of Object.keys(current)) {
    const v = Object.hasOwn(patch, k) ? patch[k] : current[k];
    if (v !== null) entries.push([k, v]);
  }
  for (const k of keys) if (!Object.hasOwn(current, k) && patch[k] !== null) entries.push([k, patch[k]]);
  // fromEntries defines own properties ("__proto__" included), as the spread it replaces did.
  const merged = Object.fromEntries(entries);
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
