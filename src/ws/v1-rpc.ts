// pushgate.v1 `rpc`: `{type:"rpc", id, method, data}` is asked of the application's backend
// (--hook-url) as `{kind:"rpc", clientId, uid, method, data}`; its answer `{ result }` comes
// back as `{type:"reply", id, result}`. A refusal (4xx, or `error` in the answer) is
// E_BACKEND_ERROR with the backend's own error as `detail`; a backend that is down, slow,
// broken or answers 5xx gives E_BACKEND_UNAVAILABLE / E_BACKEND_TIMEOUT — never silence. The
// cost of one frame is bounded: --max-payload, the rate limit, --hook-timeout, and at most
// --hook-concurrency requests in flight with --hook-queue waiting (docs/hooks.md).
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import { badFrame } from "./error-frames.ts";
import type { Frame } from "./v1-frames.ts";
import { replyError } from "./v1-send.ts";

const MAX_METHOD = 128;

export function onRpc(ws: Conn, f: Frame): void {
  const d = ws.data;
  const backend = d.hub.backend;
  const id = f.id;
  if (id === undefined) return badFrame(ws, "E_BAD_FRAME", "rpc needs an `id`");
  if (typeof f.method !== "string" || f.method.length === 0 || f.method.length > MAX_METHOD) {
    return badFrame(ws, "E_BAD_FRAME", `rpc needs a string \`method\` of 1..${MAX_METHOD} characters`, id);
  }
  if (backend === null) return replyError(ws, id, "E_FORBIDDEN", "this server has no backend for rpc (--hook-url)");
  const body = { clientId: clientIdOf(d), uid: d.uid, method: f.method, data: f.data ?? null };
  void backend.post("rpc", body).then((r) => {
    if (ws.readyState !== 1) return;
    if (!r.ok) return replyError(ws, id, r.code, r.message);
    const { status, body: answer } = r.value;
    if (status >= 400 || answer.error !== undefined) {
      return replyError(ws, id, "E_BACKEND_ERROR", `the backend refused the call (${status})`, answer.error ?? null);
    }
    ws.send(`{"type":"reply","id":${JSON.stringify(id)},"result":${JSON.stringify(answer.result ?? null)}}`);
  }).catch((e) => {
    d.hub.log.error("rpc_error", { clientId: clientIdOf(d), error: String(e) });
    if (ws.readyState === 1) replyError(ws, id, "E_INTERNAL", "internal error: the rpc's answer was lost");
  });
}
