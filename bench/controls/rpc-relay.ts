// The hooks-rpc part's relay: the least a WebSocket server can do on pushgate's rpc path, the floor
// of that topology (one more Bun process between the client and the backend, on the same machine).
// A bare Bun.serve that accepts the pushgate.v1 subprotocol, answers `{"type":"auth",uid}` with
// `{"type":"welcome"}` (what the load client's login waits for), and for
// `{"type":"rpc",id,method,data}` POSTs `{"kind":"rpc",clientId,uid,method,data}` to the backend
// with the HTTP client pushgate uses (src/hooks/http-pool.ts, pushgate's default limits), then
// sends `{"type":"reply",id,result}`. A failed call is an error reply, never silence. No
// validation beyond that, no limits, queue, metrics or logging.
//   bun bench/controls/rpc-relay.ts --backend URL [--port N] [--host H]   → prints {"port":N} once listening
import { parseArgs } from "node:util";
import { HttpPool } from "../../src/hooks/http-pool.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" }, backend: { type: "string" } },
});
if (!values.backend) throw new Error("rpc-relay: --backend URL is required");

const PROTOCOL = "pushgate.v1";
// pushgate's defaults: --hook-max-body 64KiB, --hook-timeout 2s, --hook-concurrency 64.
const pool = new HttpPool(new URL(values.backend), 65536, 2000, 64);

interface Relayed { clientId: string; uid: string | null }
interface Frame { type?: unknown; uid?: unknown; id?: unknown; method?: unknown; data?: unknown }

let nextClient = 0;
const replyError = (id: unknown, code: string) => `{"type":"reply","id":${JSON.stringify(id)},"error":{"code":"${code}"}}`;

const server = Bun.serve<Relayed>({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, srv) {
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    if (!offered.includes(PROTOCOL)) return new Response("rpc relay: connect with the pushgate.v1 subprotocol\n", { status: 400 });
    const data: Relayed = { clientId: `relay-${nextClient++}`, uid: null };
    return srv.upgrade(req, { data, headers: { "sec-websocket-protocol": PROTOCOL } }) ? undefined : new Response("upgrade failed\n", { status: 400 });
  },
  websocket: {
    message(ws, message) {
      let f: Frame;
      try {
        f = JSON.parse(String(message)) as Frame;
      } catch {
        return ws.close(1003, "not JSON");
      }
      const d = ws.data;
      if (f.type === "auth" && typeof f.uid === "string") {
        d.uid = f.uid;
        ws.send('{"type":"welcome"}');
        return;
      }
      if (f.type !== "rpc" || d.uid === null) return ws.close(1008, "auth first, then rpc");
      const id = f.id;
      pool.post(JSON.stringify({ kind: "rpc", clientId: d.clientId, uid: d.uid, method: f.method, data: f.data ?? null })).then(
        ({ status, text }) => {
          if (ws.readyState !== 1) return;
          let answer: { result?: unknown } | null = null;
          try {
            answer = JSON.parse(text) as { result?: unknown };
          } catch {}
          if (status >= 300 || answer === null || typeof answer !== "object") return ws.send(replyError(id, "E_BACKEND_UNAVAILABLE"));
          ws.send(`{"type":"reply","id":${JSON.stringify(id)},"result":${JSON.stringify(answer.result ?? null)}}`);
        },
        () => { if (ws.readyState === 1) ws.send(replyError(id, "E_BACKEND_UNAVAILABLE")); },
      );
    },
  },
});
console.log(JSON.stringify({ port: server.port }));
