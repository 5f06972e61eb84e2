// Gateway::setSession / updateSession / getSession and closeClient.
import { MAX_CLOSE_REASON_BYTES } from "../../core/errors.ts";
import type { Hub } from "../../core/hub.ts";
import { type Err, err, ok } from "../../core/result.ts";
import { connOf } from "./membership.ts";
import type { ApiMethod } from "./types.ts";

function tooLarge(hub: Hub, bytes: number | string): Err {
  hub.metrics.limitsExceeded.incL(["max_session_bytes"]);
  return err("E_SESSION_TOO_LARGE", `session: ${bytes} bytes as JSON, over the limit of ${hub.config.maxSessionBytes} (--max-session-bytes)`, "session");
}

const bytesOf = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

export const setSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const data = p.object("session");
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const bytes = bytesOf(data);
  if (bytes > hub.config.maxSessionBytes) return tooLarge(hub, bytes);
  hub.effects++;
  ws.value.data.session = { data, bytes, keys: Object.keys(data).length };
  return ok(true);
};

/**
 * Shallow merge; a key set to null is removed. The session's JSON size is kept up to date entry
 * by entry, so a merge costs O(patch), not O(session): a batch of small merges into a full
 * session does not stringify the session once per call. Nothing changes unless all of it fits.
 */
export const updateSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const patch = p.object("session");
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const d = ws.value.data;
  const session = d.session ?? { data: {}, bytes: 2, keys: 0 };
  const target = session.data;
  let entryBytes = session.keys === 0 ? 0 : session.bytes - 2 - (session.keys - 1); // without braces and commas
  let keys = session.keys;
  const patchKeys = Object.keys(patch);
  for (const k of patchKeys) {
    const v = patch[k];
    if (Object.hasOwn(target, k)) {
      entryBytes -= bytesOf(k) + 1 + bytesOf(target[k]);
      keys--;
    }
    if (v !== null) {
      entryBytes += bytesOf(k) + 1 + bytesOf(v);
      keys++;
    }
    // Later deletions can take off at most the session's own size: past that, a huge patch is
    // refused here instead of being sized to the end.
    if (entryBytes > hub.config.maxSessionBytes + session.bytes) return tooLarge(hub, `more than ${hub.config.maxSessionBytes}`);
  }
  const bytes = keys === 0 ? 2 : entryBytes + 2 + (keys - 1);
  if (bytes > hub.config.maxSessionBytes) return tooLarge(hub, bytes);
  hub.effects++;
  for (const k of patchKeys) {
    const v = patch[k];
    if (v === null) delete target[k];
    // "__proto__" is a plain key here, as JSON.parse made it: defined, never assigned.
    else if (k === "__proto__") Object.defineProperty(target, k, { value: v, writable: true, enumerable: true, configurable: true });
    else target[k] = v;
  }
  session.bytes = bytes;
  session.keys = keys;
  d.session = session;
  return ok(true);
};

export const getSession: ApiMethod = (p, hub) => {
  const id = p.clientId();
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  return ws.ok ? ok(ws.value.data.session?.data ?? null) : ws;
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

/** GatewayWorker's destoryClient: the connection is dropped at once (no close handshake, nothing more sent). */
export const destroyClient: ApiMethod = (p, hub) => {
  const id = p.clientId();
  if (p.error) return p.error;
  const ws = hub.clients.get(id);
  if (!ws) return ok(false);
  hub.effects++;
  ws.terminate();
  return ok(true);
};
