// One of the presence scenario's member processes, run by scenarios/presence.ts (several, so none
// nears RLIMIT_NOFILE): bun bench/clients/presence-members.ts '<PresenceMembersConfig JSON>'
// Logs `count` pushgate.v1 clients in (uid m<index mod memberUids>: a uid's first connection is a
// join, so a few uids keep the setup's own join frames to a few hundred thousand instead of
// members²/2), subscribes each to the presence group and prints `RESULT` (phase
// "presence-members-ready"). Then, until SIGUSR1 (or holdMaxMs), every frame is timed on the
// shared clock (epochMs): the n-th presence frame about the probe's uid is event n (join for even
// n, leave for odd: anything else is out of step), a push's `data` is its sequence number. At the
// release it prints, per event index and per push, the last arrival among its members and how
// many members got it (phase "presence-members"), resets the sockets and exits.
import { type HeldClientsConfig, holdUntilReleased, printResult, readConfig, releaseOnSignal, sleepUntil } from "./load-process.ts";
import { closePool, loginEach } from "../lib/client-pool.ts";
import { loginV1, nsToEpochOffsetMs, subscribeV1 } from "../lib/v1-session.ts";
import type { WsConn } from "../lib/ws-client.ts";

export interface PresenceMembersConfig extends HeldClientsConfig {
  host: string;
  sources: number;
  group: string;
  /** Member k (firstUid + i) logs in as m<k mod memberUids>. */
  memberUids: number;
  /** The uid whose presence frames are the measured events (the probe's). */
  probeUid: string;
  /** Size of the arrival tables: event indexes and push sequence numbers are below it. */
  maxEvents: number;
}

const PRESENCE = Buffer.from('{"type":"presence"');
const PUSH = Buffer.from('{"type":"push"');

if (import.meta.main) {
  const cfg = readConfig<PresenceMembersConfig>("bench/clients/presence-members.ts", "PresenceMembersConfig", "scenarios/presence.ts");
  const release = releaseOnSignal();
  await sleepUntil(cfg.startAt);
  const t0 = performance.now();
  const run = await loginEach(cfg.clients, cfg.concurrency, t0 + cfg.connectTimeoutMs, async (i) => {
    const k = cfg.firstUid + i;
    const { conn } = await loginV1(`m${k % cfg.memberUids}`, { host: cfg.host, port: cfg.port, localAddress: `127.0.0.${1 + (i % cfg.sources)}` }, 5000);
    try {
      await subscribeV1(conn, 1, cfg.group, 5000);
    } catch (e) {
      conn.close(100);
      throw e;
    }
    return conn;
  });
  const setupMs = performance.now() - t0;
  const conns = run.conns;
  const n = cfg.maxEvents;
  const presenceLast = new Float64Array(n), presenceCount = new Int32Array(n);
  const pushLast = new Float64Array(n), pushCount = new Int32Array(n);
  // Per connection: how many probe presence frames it has seen, and the last push seq.
  const seen = new Int32Array(conns.length), lastSeq = new Int32Array(conns.length).fill(-1);
  let outOfStep = 0, duplicates = 0, overflow = 0, malformed = 0;
  const offsetMs = nsToEpochOffsetMs();
  const onFrame = (c: WsConn, buf: Buffer, start: number, end: number, nowNs: number) => {
    const at = offsetMs + nowNs / 1e6;
    if (PRESENCE.compare(buf, start, start + PRESENCE.length) === 0) {
      const f = JSON.parse(buf.toString("utf8", start, end)) as { event?: string; uid?: string };
      if (f.uid !== cfg.probeUid) return; // a member's own uid (setup)
      const idx = seen[c.slot]!++;
      if (idx >= n) { overflow++; return; }
      if (f.event !== (idx % 2 === 0 ? "join" : "leave")) outOfStep++;
      presenceCount[idx]!++;
      if (at > presenceLast[idx]!) presenceLast[idx] = at;
    } else if (PUSH.compare(buf, start, start + PUSH.length) === 0) {
      const f = JSON.parse(buf.toString("utf8", start, end)) as { data?: unknown };
      const seq = f.data;
      if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0) { malformed++; return; }
      if (seq >= n) { overflow++; return; }
      if (seq <= lastSeq[c.slot]!) duplicates++;
      lastSeq[c.slot] = seq;
      pushCount[seq]!++;
      if (at > pushLast[seq]!) pushLast[seq] = at;
    }
  };
  for (const [i, c] of conns.entries()) {
    c.slot = i;
    c.handler = onFrame;
  }
  printResult({
    phase: "presence-members-ready", requested: cfg.clients, loggedIn: conns.length, failed: run.failed,
    errors: [...run.errors].join("; ") || null, setupMs,
  });
  await holdUntilReleased(release, cfg.holdMaxMs);
  // Only the indexes some member saw: the tables are mostly empty past the run's last event.
  const used = (counts: Int32Array) => { let k = counts.length; while (k > 0 && counts[k - 1] === 0) k--; return k; };
  const np = used(presenceCount), nq = used(pushCount);
  printResult({
    phase: "presence-members", loggedIn: conns.length, closedWhileHeld: conns.filter((c) => !c.open).length,
    outOfStep, duplicates, overflow, malformed,
    presenceLast: [...presenceLast.subarray(0, np)], presenceCount: [...presenceCount.subarray(0, np)],
    pushLast: [...pushLast.subarray(0, nq)], pushCount: [...pushCount.subarray(0, nq)],
  }, conns);
  await closePool(conns, 3000);
  process.exit(0);
}
