// The second control: the seed's own design, in Bun. A user-land Map uid → Set of sockets;
// `X:payload` looks X up and sends to each of its sockets, `all:payload` loops over every
// socket. No topic pub/sub, no validation, limits, metrics or logging. WebSocket options match
// pushgate's defaults (as in control-seed-server.ts).
//   bun bench/control-map-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import type { ServerWebSocket } from "bun";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } },
});

interface Seed { uid: string | null }
type Ws = ServerWebSocket<Seed>;

const byUid = new Map<string, Set<Ws>>();
const everyone = new Set<Ws>();

const server = Bun.serve<Seed>({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { uid: null } })) return undefined;
    return new Response("control map server: connect with a WebSocket\n");
  },
  websocket: {
    maxPayloadLength: 64 * 1024,
    backpressureLimit: 1024 * 1024,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
    perMessageDeflate: false,
    message(ws, message) {
      if (typeof message !== "string") return;
      const d = ws.data;
      if (d.uid === null) {
        d.uid = message;
        let set = byUid.get(message);
        if (!set) byUid.set(message, (set = new Set()));
        set.add(ws);
        everyone.add(ws);
        ws.send("login success, your uid is " + message);
        return;
      }
      const colon = message.indexOf(":");
      if (colon <= 0) return;
      const target = message.slice(0, colon);
      const payload = message.slice(colon + 1);
      const to = target === "all" ? everyone : byUid.get(target);
      if (to) for (const s of to) s.send(payload);
    },
    close(ws) {
      const uid = ws.data.uid;
      if (uid === null) return;
      everyone.delete(ws);
      const set = byUid.get(uid);
      if (set) {
        set.delete(ws);
        if (set.size === 0) byUid.delete(uid);
      }
    },
  },
});

console.log(JSON.stringify({ port: server.port }));
