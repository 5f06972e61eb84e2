// The benchmark's control: the seed text protocol on bare Bun.serve topic pub/sub, nothing else
// (no validation, limits, metrics or logging). WebSocket transport options match pushgate's
// defaults so the comparison measures pushgate's own code, not different socket settings.
//   bun bench/control-seed-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } },
});

interface Seed { uid: string | null }

const server = Bun.serve<Seed>({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { uid: null } })) return undefined;
    return new Response("control seed server: connect with a WebSocket\n");
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
        ws.subscribe("uid:" + message);
        ws.subscribe("all");
        ws.send("login success, your uid is " + message);
        return;
      }
      const colon = message.indexOf(":");
      if (colon <= 0) return;
      const target = message.slice(0, colon);
      server.publish(target === "all" ? "all" : "uid:" + target, message.slice(colon + 1));
    },
  },
});

console.log(JSON.stringify({ port: server.port }));
