// The hooks scenario's application backend (what --hook-url points at), a bare Bun.serve in its
// own process that answers at once: `connect` → `{"uid": <credential>}` (the credential is the uid,
// as in uid mode), `rpc` → `{"result": {"us": <its own time>, "data": <the call's data>}}`. `us` is
// the time from the request's arrival in the handler to the answer (body read and parsed), so a
// client can subtract the backend's own share from its round trip.
//   bun bench/controls/hook-backend.ts [--port N] [--host H]   → prints {"port":N} once listening
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } } });

const JSON_HEADERS = { "content-type": "application/json" };

const server = Bun.serve({
  port: Number(values.port),
  hostname: values.host,
  async fetch(req) {
    const t0 = performance.now();
    let q: { kind?: unknown; credential?: unknown; data?: unknown };
    try {
      q = JSON.parse(await req.text()) as typeof q;
    } catch {
      return new Response('{"error":"not JSON"}', { status: 400, headers: JSON_HEADERS });
    }
    if (q.kind === "connect") {
      if (typeof q.credential !== "string") return new Response('{"error":"no credential"}', { status: 403, headers: JSON_HEADERS });
      return new Response(`{"uid":${JSON.stringify(q.credential)}}`, { headers: JSON_HEADERS });
    }
    if (q.kind === "rpc") {
      const data = JSON.stringify(q.data ?? null);
      const us = (performance.now() - t0) * 1000;
      return new Response(`{"result":{"us":${us.toFixed(2)},"data":${data}}}`, { headers: JSON_HEADERS });
    }
    return new Response(`{"error":"unknown kind"}`, { status: 404, headers: JSON_HEADERS });
  },
});
console.log(JSON.stringify({ port: server.port }));
