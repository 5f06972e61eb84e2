// One load process of the scale scenario, run by scale.ts (several: at most 19,000 sockets each):
//   bun bench/scale-client.ts '<ScaleClientConfig JSON>'
// Waits until startAt (epoch ms, shared by all processes), logs in uids u<firstUid>.. (destination
// 127.0.0.<1+i%8>, source 127.0.0.<1+(i>>3)%8, so the 4-tuples spread over 64 address pairs) and
// prints `RESULT {"phase":"scale-client",...}`. Then it watches every socket for the pushes of the
// reachability checks and prints `RESULT {"phase":"scale-progress",...}` whenever its counts
// changed (at most every 200 ms):
//   `su:<k>|<uid>`  an HTTP sendToUid: must reach the socket of <uid> (else misrouted), once;
//   `sa:<k>`        the sendToAll: every socket once.
// SIGUSR1 (from the orchestrator, by pid) or holdMaxMs ends the hold: it reports sockets that
// closed meanwhile, closes and exits.
import { LOGIN_REPLY_PREFIX, closePool } from "./client-pool.ts";
import { selfCpuMs } from "./proc-stats.ts";
import { RESULT_PREFIX } from "./types.ts";
import { WsConn } from "./ws-client.ts";

export interface ScaleClientConfig {
  port: number;
  firstUid: number;
  clients: number;
  /** Destination and source addresses 127.0.0.1..127.0.0.<addresses>. */
  addresses: number;
  concurrency: number;
  startAt: number;
  connectTimeoutMs: number;
  opTimeoutMs: number;
  holdMaxMs: number;
}

async function loginOne(uid: string, i: number, cfg: ScaleClientConfig): Promise<WsConn> {
  const host = `127.0.0.${1 + (i % cfg.addresses)}`;
  const localAddress = `127.0.0.${1 + (Math.floor(i / cfg.addresses) % cfg.addresses)}`;
  const conn = await WsConn.connect(uid, { host, port: cfg.port, localAddress }, cfg.opTimeoutMs);
  const reply = Promise.withResolvers<string>();
  conn.handler = (_c, buf, start, end) => reply.resolve(buf.toString("utf8", start, end));
  const timer = setTimeout(() => reply.reject(new Error("login reply timeout")), cfg.opTimeoutMs);
  conn.sendText(uid);
  try {
    const text = await reply.promise;
    if (text !== LOGIN_REPLY_PREFIX + uid) throw new Error(`unexpected login reply: ${text.slice(0, 80)}`);
    return conn;
  } catch (e) {
    conn.close(100);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) {
  const cfg = JSON.parse(Bun.argv[2] ?? "null") as ScaleClientConfig | null;
  if (!cfg) {
    console.error("usage: bun bench/scale-client.ts '<ScaleClientConfig JSON>' (scale.ts builds it)");
    process.exit(2);
  }
  const release = Promise.withResolvers<void>();
  process.on("SIGUSR1", () => release.resolve());
  const wait = cfg.startAt - Date.now();
  if (wait > 0) await Bun.sleep(wait);

  const startedAtMs = Date.now();
  const cpu0 = selfCpuMs();
  const conns: WsConn[] = [];
  const errors = new Set<string>();
  const failedUids: string[] = [];
  let failed = 0;
  let next = 0;
  const deadline = performance.now() + cfg.connectTimeoutMs;
  const worker = async () => {
    while (next < cfg.clients && performance.now() < deadline) {
      const i = next++;
      const uid = `u${cfg.firstUid + i}`;
      try {
        conns.push(await loginOne(uid, i, cfg));
      } catch (e) {
        failed++;
        if (failedUids.length < 1000) failedUids.push(uid);
        if (errors.size < 5) errors.add((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.clients) }, worker));
  if (next < cfg.clients) {
    errors.add(`connect deadline of ${cfg.connectTimeoutMs} ms passed after ${next} of ${cfg.clients}`);
    failed += cfg.clients - next;
  }
  const finishedAtMs = Date.now();
  const clientCpuMs = selfCpuMs() - cpu0;

  // Reachability: per-socket state, counted in place (no per-frame allocation beyond the text).
  const gotUid = new Uint8Array(conns.length);
  const gotAll = new Uint8Array(conns.length);
  const targetedUids: string[] = [];
  let misrouted = 0, uidDuplicates = 0, allReceived = 0, allDuplicates = 0, unexpected = 0;
  let lastUidAtMs = 0, lastAllAtMs = 0, version = 0;
  conns.forEach((c, k) => {
    c.slot = k;
    c.handler = (conn, buf, start, end) => {
      const text = buf.toString("utf8", start, end);
      version++;
      if (text.startsWith("su:")) {
        const uid = text.slice(text.indexOf("|") + 1);
        if (uid !== conn.uid) { misrouted++; return; }
        if (gotUid[conn.slot]!++ === 0) targetedUids.push(uid);
        else uidDuplicates++;
        lastUidAtMs = Date.now();
      } else if (text.startsWith("sa:")) {
        if (gotAll[conn.slot]!++ === 0) allReceived++;
        else allDuplicates++;
        lastAllAtMs = Date.now();
      } else {
        unexpected++;
      }
    };
  });
  process.stdout.write(RESULT_PREFIX + JSON.stringify({
    phase: "scale-client", requested: cfg.clients, loggedIn: conns.length, failed, failedUids,
    errors: [...errors].join("; ") || null, startedAtMs, finishedAtMs, clientCpuMs,
  }) + "\n");

  let reported = -1;
  const progress = () => {
    if (version === reported) return;
    reported = version;
    process.stdout.write(RESULT_PREFIX + JSON.stringify({
      phase: "scale-progress", targetedUids, misrouted, uidDuplicates, allReceived, allDuplicates, unexpected, lastUidAtMs, lastAllAtMs,
    }) + "\n");
  };
  const ticker = setInterval(progress, 200);
  const hold = setTimeout(() => release.resolve(), cfg.holdMaxMs);
  await release.promise;
  clearTimeout(hold);
  clearInterval(ticker);
  progress();
  const closedWhileIdle = conns.filter((c) => !c.open).length;
  process.stdout.write(RESULT_PREFIX + JSON.stringify({ phase: "scale-hold", closedWhileIdle, clientCpuMsTotal: selfCpuMs() - cpu0 }) + "\n");
  await closePool(conns, 5000);
  process.exit(0);
}
