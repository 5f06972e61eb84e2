// The cluster scenario's second control: the cheapest two-node cluster on Bun + Redis. The seed
// text protocol on bare Bun.serve topic pub/sub (as control-seed-server.ts), and every push goes
// through Redis pub/sub with Bun's built-in RedisClient: `X:payload` is one fire-and-forget
// PUBLISH of the bare payload to pushgate's channel of uid X (no script, history or JSON), and a
// message from Redis is one server.publish to the local topic. Local pushes take the same Redis
// round trip, so nothing is delivered twice. The channel names are pushgate's, so the load client's
// PUBSUB NUMSUB wait works unchanged. No validation, limits, metrics or logging.
//   bun bench/controls/control-relay-server.ts --redis URL [--port N] [--host H]   → prints {"port":N} once listening
import { RedisClient, type Server } from "bun";
import { LOGIN_REPLY, type Seed, controlArgs, serveControl } from "./control-server.ts";

/** pushgate's streamChannel(): `pushgate:c:` + the Bun topic (`uid:<uid>` or `all`). */
const CH = "pushgate:c:";
const ignore = () => {};

const url = controlArgs().redis;
if (!url) throw new Error("control-relay-server: --redis URL is required");
// A subscribed client takes no other commands: one client publishes, one is subscribed.
const cmd = new RedisClient(url);
const sub = new RedisClient(url);
await Promise.all([cmd.connect(), sub.connect()]);

let server: Server<Seed> | null = null;
const deliver = (message: string, channel: string) => { server?.publish(channel.slice(CH.length), message); };
await sub.subscribe(CH + "all", deliver);

/** Per uid with local sockets: how many, and its channel's SUBSCRIBE (the login reply waits for it). */
const held = new Map<string, { n: number; ready: Promise<unknown> }>();

server = serveControl("relay", {
  message(ws, message) {
    if (typeof message !== "string") return;
    const d = ws.data;
    if (d.uid === null) {
      const uid = (d.uid = message);
      ws.subscribe("uid:" + uid);
      ws.subscribe("all");
      let h = held.get(uid);
      if (!h) held.set(uid, (h = { n: 0, ready: sub.subscribe(CH + "uid:" + uid, deliver) }));
      h.n++;
      // As pushgate: "login success" only once a push from the other node can reach this socket.
      h.ready.then(() => { if (ws.readyState === 1) ws.send(LOGIN_REPLY + uid); }, ignore);
      return;
    }
    const colon = message.indexOf(":");
    if (colon <= 0) return;
    const target = message.slice(0, colon);
    cmd.publish(CH + (target === "all" ? "all" : "uid:" + target), message.slice(colon + 1)).catch(ignore);
  },
  close(ws) {
    const uid = ws.data.uid;
    if (uid === null) return;
    const h = held.get(uid);
    if (!h || --h.n > 0) return;
    held.delete(uid);
    sub.unsubscribe(CH + "uid:" + uid).catch(ignore);
  },
});
