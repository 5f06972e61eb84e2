// The second control: the seed's own design, in Bun. A user-land Map uid → Set of sockets;
// `X:payload` looks X up and sends to each of its sockets, `all:payload` loops over every
// socket. No topic pub/sub, no validation, limits, metrics or logging. Command line and
// transport options: control-server.ts (as in control-seed-server.ts).
//   bun bench/controls/control-map-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import { LOGIN_REPLY, type SeedSocket, serveControl } from "./control-server.ts";

const byUid = new Map<string, Set<SeedSocket>>();
const everyone = new Set<SeedSocket>();

serveControl("map", {
  message(ws, message) {
    if (typeof message !== "string") return;
    const d = ws.data;
    if (d.uid === null) {
      d.uid = message;
      let set = byUid.get(message);
      if (!set) byUid.set(message, (set = new Set()));
      set.add(ws);
      everyone.add(ws);
      ws.send(LOGIN_REPLY + message);
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
});
