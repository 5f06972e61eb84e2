// JS heap per idle logged-in connection, by object type: the census behind the memory work in
// docs/performance.md ("what moved each figure"). The server runs in this process so its heap can
// be read (`bun:jsc` heapStats after forced full GCs); a child process logs N seed clients in.
//   bun bench/scenarios/heap-census.ts [pushgate|control] [N]      (default pushgate 5000; N ≤ 15000)
// Prints heap bytes, objects and RSS per connection, and the object types whose count per
// connection changed by at least 0.5. One process, one run: compare the two kinds back to back.
import { heapStats } from "bun:jsc";

const LOGIN_REPLY = "login success, your uid is ";

/** Child mode: log `n` clients in as <prefix>0.., print "ready", hold (or close at once for warm-up). */
async function clients(port: number, n: number, prefix: string, hold: boolean): Promise<void> {
  const socks: WebSocket[] = [];
  let done = 0;
  await new Promise<void>((resolve) => {
    let i = 0;
    const open = () => {
      while (i < n && i - done < 64) {
        const uid = prefix + i++;
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.onopen = () => ws.send(uid);
        ws.onmessage = () => { if (++done === n) resolve(); else open(); };
        socks.push(ws);
      }
    };
    open();
  });
  if (!hold) {
    for (const s of socks) s.close();
    await Bun.sleep(200);
    process.exit(0);
  }
  console.log("ready");
  await Bun.sleep(600_000);
}

function startServer(kind: string): number {
  if (kind === "pushgate") {
    return require("../../src/server.ts").startPushgate({ port: 0, host: "127.0.0.1", logLevel: "error", rateLimit: 0, maxConnectionsPerUid: 0 }).port;
  }
  // The bare control's seed login (control-seed-server.ts), with the same transport options.
  const s = Bun.serve<{ uid: string | null }>({
    port: 0, hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req, { data: { uid: null } }) ? undefined : new Response("control")),
    websocket: {
      maxPayloadLength: 64 * 1024, backpressureLimit: 1024 * 1024, closeOnBackpressureLimit: true, idleTimeout: 120,
      sendPings: true, perMessageDeflate: false,
      message(ws, m) {
        if (ws.data.uid !== null) return;
        ws.data.uid = String(m);
        ws.subscribe("uid:" + m);
        ws.subscribe("all");
        ws.send(LOGIN_REPLY + m);
      },
    },
  });
  return s.port!;
}

function snapshot() {
  Bun.gc(true);
  Bun.gc(true);
  const h = heapStats();
  return { heap: h.heapSize, objects: h.objectCount, types: h.objectTypeCounts as Record<string, number>, rss: process.memoryUsage.rss() };
}

const args = Bun.argv.slice(2);
if (args[0] === "--client") {
  await clients(Number(args[1]), Number(args[2]), args[3]!, args[4] === "hold");
} else {
  const kind = args[0] ?? "pushgate";
  const n = Number(args[1] ?? 5000);
  if (!["pushgate", "control"].includes(kind) || !Number.isInteger(n) || n < 1 || n > 15_000) {
    console.error("usage: bun bench/scenarios/heap-census.ts [pushgate|control] [N ≤ 15000]");
    process.exit(2);
  }
  const port = startServer(kind);
  const child = (prefix: string, count: number, hold: boolean) =>
    Bun.spawn([process.execPath, import.meta.path, "--client", String(port), String(count), prefix, hold ? "hold" : "close"], { stdout: "pipe" });
  await child("w", 200, false).exited; // warm-up: JIT and first allocations are not per connection
  await Bun.sleep(300);
  const before = snapshot();
  const held = child("u", n, true);
  await held.stdout.getReader().read(); // "ready"
  await Bun.sleep(500);
  const after = snapshot();
  held.kill();
  const per = (x: number) => (x / n).toFixed(0);
  console.log(`${kind}: ${n} connections; per connection: JS heap ${per(after.heap - before.heap)} B, ` +
    `objects ${((after.objects - before.objects) / n).toFixed(2)}, RSS ${per(after.rss - before.rss)} B`);
  const types = Object.entries(after.types)
    .map(([t, c]) => [t, (c - (before.types[t] ?? 0)) / n] as const)
    .filter(([, d]) => Math.abs(d) >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  console.log("object types per connection: " + types.map(([t, d]) => `${t} ${d.toFixed(2)}`).join(", "));
  process.exit(0);
}
