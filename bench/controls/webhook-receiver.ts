// The hooks scenario's webhook receiver (what --webhook-url points at), a bare Bun.serve in its own
// process. It checks nothing heavy: each POST /events is read, parsed and its events counted (and
// their ids, for duplicates); no signature is verified (a missing one is counted). Its own clock
// times the first and last arrival, so pushgate and the bare poster control are timed alike.
// Control paths, for the orchestrator only:
//   POST /_reset    forget everything (before each run)
//   POST /_hold     from now on, answer no /events POST until /_release (a backlog builds behind
//                   the one POST pushgate keeps in flight)
//   POST /_release  answer the held POSTs; `releaseAt` is this moment
//   GET  /_stats    the counts and times (ms on this process's performance.now() clock)
//   bun bench/controls/webhook-receiver.ts [--port N] [--host H]   → prints {"port":N} once listening
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } } });

export interface ReceiverStats {
  posts: number;
  events: number;
  duplicates: number;
  /** POSTs that were not JSON with an `events` array, or had no x-pushgate-signature. */
  bad: number;
  unsigned: number;
  largestBatch: number;
  /** The first POST's events (the control's rate leaves them out: they start the clock). */
  firstBatch: number;
  firstAt: number | null;
  lastAt: number | null;
  /** Events in POSTs that arrived while holding (answered at release). */
  heldEvents: number;
  releaseAt: number | null;
}

let s: ReceiverStats;
let ids = new Set<string>();
let holding = false;
let held: Array<() => void> = [];
const reset = () => {
  s = { posts: 0, events: 0, duplicates: 0, bad: 0, unsigned: 0, largestBatch: 0, firstBatch: 0, firstAt: null, lastAt: null, heldEvents: 0, releaseAt: null };
  ids = new Set();
};
reset();

const OK = () => new Response("ok");

const server = Bun.serve({
  port: Number(values.port),
  hostname: values.host,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/events" && req.method === "POST") {
      const text = await req.text();
      let events: { id?: unknown }[];
      try {
        events = (JSON.parse(text) as { events: { id?: unknown }[] }).events;
        if (!Array.isArray(events)) throw new Error("no events");
      } catch {
        s.bad++;
        return new Response("bad", { status: 400 });
      }
      const now = performance.now();
      if (!req.headers.get("x-pushgate-signature")) s.unsigned++;
      for (const e of events) {
        const id = String(e.id);
        if (ids.has(id)) s.duplicates++;
        else ids.add(id);
      }
      if (s.posts === 0) {
        s.firstAt = now;
        s.firstBatch = events.length;
      }
      s.posts++;
      s.events += events.length;
      s.lastAt = now;
      if (events.length > s.largestBatch) s.largestBatch = events.length;
      if (holding) {
        s.heldEvents += events.length;
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return OK();
    }
    if (path === "/_stats") return Response.json(s);
    if (path === "/_reset") { reset(); return OK(); }
    if (path === "/_hold") { holding = true; return OK(); }
    if (path === "/_release") {
      holding = false;
      s.releaseAt = performance.now();
      const waiting = held;
      held = [];
      for (const r of waiting) r();
      return OK();
    }
    return new Response("not found", { status: 404 });
  },
});
console.log(JSON.stringify({ port: server.port }));
