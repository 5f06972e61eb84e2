// The benchmark's control: the seed text protocol on bare Bun.serve topic pub/sub, nothing else
// (no validation, limits, metrics or logging). Command line and transport options: control-server.ts.
// For the api scenario it also answers pushgate's request shapes, POST /api/sendToUid {uid, data}
// and POST /api/batch {calls: [{method: "sendToUid", params}]}, with a bare JSON parse, one
// publish per uid and a JSON answer: the runtime's own cost of an HTTP push.
//   bun bench/controls/control-seed-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import type { Server } from "bun";
import { LOGIN_REPLY, type Seed, serveControl } from "./control-server.ts";

type Send = { uid: string; data: string };

function sendToUid(srv: Server<Seed>, p: Send): { reached: number; offline: string[] } {
  const topic = "uid:" + p.uid;
  const reached = srv.subscriberCount(topic);
  if (reached > 0) srv.publish(topic, p.data);
  return { reached, offline: reached > 0 ? [] : [p.uid] };
}

async function api(req: Request, srv: Server<Seed>): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/api/sendToUid") return Response.json({ result: sendToUid(srv, (await req.json()) as Send) });
  const body = (await req.json()) as { calls: { params: Send }[] };
  return Response.json({ result: body.calls.map((c) => ({ result: sendToUid(srv, c.params) })) });
}

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
}, (req, srv) => (req.method === "POST" && req.url.includes("/api/") ? api(req, srv) : null));
