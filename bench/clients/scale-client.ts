// One load process of the scale scenario, run by scale.ts (several: at most 19,000 sockets each):
//   bun bench/clients/scale-client.ts '<ScaleClientConfig JSON>'
// Waits until startAt (epoch ms, shared by all processes), logs in uids u<firstUid>.. (destination
// 127.0.0.<1+i%8>, the source port picked by connect(), see below) and
// prints `RESULT {"phase":"scale-client",...}`. Then it watches every socket for the pushes of the
// reachability checks and prints `RESULT {"phase":"scale-progress",...}` whenever its counts
// changed (at most every 200 ms):
//   `su:<k>|<uid>`  an HTTP sendToUid: must reach the socket of <uid> (else misrouted), once;
//   `sa:<k>`        the sendToAll: every socket once.
// SIGUSR1 (from the orchestrator, by pid) or holdMaxMs ends the hold: it reports sockets that
// closed meanwhile, closes and exits.
import { type HeldClientsConfig, holdUntilReleased, printResult, readConfig, releaseOnSignal, sleepUntil } from "./load-process.ts";
import { closePool, loginClient, loginEach } from "../lib/client-pool.ts";
import { selfCpuMs } from "../lib/proc-stats.ts";

export interface ScaleClientConfig extends HeldClientsConfig {
  /** Destination and source addresses 127.0.0.1..127.0.0.<addresses>. */
  addresses: number;
  opTimeoutMs: number;
}

if (import.meta.main) {
  const cfg = readConfig<ScaleClientConfig>("bench/clients/scale-client.ts", "ScaleClientConfig", "scale.ts");
  const release = releaseOnSignal();
  await sleepUntil(cfg.startAt);

  const startedAtMs = Date.now();
  const cpu0 = selfCpuMs();
  const failedUids: string[] = [];
  // Destination 127.0.0.<1+i%A>, source chosen by connect(): no bind() first, because binding a
  // source address has to find a port free for every destination, and with ~12,500 sockets per
  // address that search made the load processes' kernel time the limit of the connect rate
  // (843/s at 100,000). connect() only needs a free 4-tuple: ~28,000 ports per destination.
  const A = cfg.addresses;
  const { conns, failed, errors, attempted } = await loginEach(cfg.clients, cfg.concurrency, performance.now() + cfg.connectTimeoutMs,
    (i) => loginClient(`u${cfg.firstUid + i}`, { host: `127.0.0.${1 + (i % A)}`, port: cfg.port }, cfg.opTimeoutMs),
    (i) => { if (failedUids.length < 1000) failedUids.push(`u${cfg.firstUid + i}`); });
  if (attempted < cfg.clients) errors.add(`connect deadline of ${cfg.connectTimeoutMs} ms passed after ${attempted} of ${cfg.clients}`);
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
  printResult({
    phase: "scale-client", requested: cfg.clients, loggedIn: conns.length, failed, failedUids,
    errors: [...errors].join("; ") || null, startedAtMs, finishedAtMs, clientCpuMs,
  });

  let reported = -1;
  const progress = () => {
    if (version === reported) return;
    reported = version;
    printResult({
      phase: "scale-progress", targetedUids, misrouted, uidDuplicates, allReceived, allDuplicates, unexpected, lastUidAtMs, lastAllAtMs,
    });
  };
  const ticker = setInterval(progress, 200);
  await holdUntilReleased(release, cfg.holdMaxMs);
  clearInterval(ticker);
  progress();
  const closedWhileIdle = conns.filter((c) => !c.open).length;
  printResult({ phase: "scale-hold", closedWhileIdle, clientCpuMsTotal: selfCpuMs() - cpu0 });
  await closePool(conns, 5000);
  process.exit(0);
}
