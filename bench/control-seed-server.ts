// The benchmark's control: the seed text protocol on bare Bun.serve topic pub/sub, nothing else
// (no validation, limits, metrics or logging). Command line and transport options: control-server.ts.
//   bun bench/control-seed-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import { LOGIN_REPLY, serveControl } from "./control-server.ts";

const server = serveControl("seed", {
  message(ws, message) {
    if (typeof message !== "string") return;
    const d = ws.data;
    if (d.uid === null) {
      d.uid = message;
      ws.subscribe("uid:" + message);
      ws.subscribe("all");
      ws.send(LOGIN_REPLY + message);
      return;
    }
    const colon = message.indexOf(":");
    if (colon <= 0) return;
    const target = message.slice(0, colon);
    server.publish(target === "all" ? "all" : "uid:" + target, message.slice(colon + 1));
  },
});
