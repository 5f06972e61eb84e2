// The soak's verifier and publisher process (soak.ts starts one): `bun bench/clients/soak-verify.ts '<VerifyConfig JSON>'`.
// - Verifiers: long-lived pushgate.v1 clients v0..v<n-1>. Each tracks every stream it is on
//   (epoch, last offset, skipped offsets): a push must come at last+1; a lower offset is a
//   duplicate, or out of order when it fills a skipped one. Steady verifiers stay connected and
//   in verifier groups (joined over the API). Reconnecting ones drop now and then (close frame,
//   RST or FIN), stay away a moment and log in again with `recover` positions: every stream must
//   come back `recovered: true` with exactly the missed messages.
// - Publisher: HTTP API pushes at fixed rates (sendToUid, sendToGroup, sendToAll, batch), each
//   with an idempotencyKey so a retry after a connection error cannot deliver twice. It records
//   what it sent to the verifiers' streams and when, so completeness is checked per stream: every
//   push sent after a verifier was entitled to the stream (its first welcome; a group's joinGroup
//   answer) must have reached it once.
// Prints `STAT <json>` every statEveryMs. On SIGUSR1 (or after maxMs) it stops publishing and
// reconnecting, waits for the last messages, prints `RESULT <json>` (the checks, and what it still
// holds open: the presence truth), then holds until SIGUSR2, closes every verifier and exits.
import { Api, TimeoutError, bump } from "./soak-api.ts";
import {
  CHURN_GROUP_PREFIX, CHURN_UID_PREFIX, VERIFIER_UID_PREFIX, type VerifyConfig, between, pick, printStat,
} from "../scenarios/soak-config.ts";
import { printResult, readConfig } from "./load-process.ts";
import { settlesWithin } from "../lib/timeout.ts";
import { WsConn } from "../lib/ws-client.ts";

const OP_MS = 5000;
/** A skipped run longer than this is counted, not listed (it would mean history is gone anyway). */
const MAX_SKIP_LIST = 10_000;

interface StreamState { epoch: string; offset: number; skipped: Set<number> }
/** A publisher push to a verifier stream: ok null = the outcome is unknown (excluded from the check). */
interface Sent { seq: number; tSend: number; ok: boolean | null }

const totals = {
  pushes: 0, duplicates: 0, outOfOrder: 0, epochChanges: 0, duplicatePayloads: 0,
  reconnects: 0, recoveries: 0, recoveredStreams: 0, replayed: 0, replayedSeen: 0, notRecovered: {} as Record<string, number>,
  recoveryMismatch: 0, loginFailures: 0, unexpectedCloses: {} as Record<string, number>, unexpectedFrames: 0,
  closeModes: {} as Record<string, number>, joinFailures: 0,
  published: 0, publishRequests: 0, publishRetries: 0, publishFailed: 0, publishSkipped: 0, httpErrors: {} as Record<string, number>,
  errors: [] as string[],
};
let stopping = false;
/** Sleepers to wake at the stop (a Set, not reactions on one pending promise, which would pile up until the stop). */
const wakers = new Set<() => void>();

function noteError(m: string): void {
  if (totals.errors.length < 5 && !totals.errors.includes(m)) totals.errors.push(m);
}

/** Sleeps ms, cut short by the stop signal; true if it slept fully. */
async function pause(ms: number): Promise<boolean> {
  if (stopping) return false;
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => resolve(true), ms);
  const wake = () => resolve(false);
  wakers.add(wake);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
    wakers.delete(wake);
  }
}

class Verifier {
  conn: WsConn | null = null;
  clientId = "";
  /** Positions by stream, kept across reconnects. */
  readonly streams = new Map<string, StreamState>();
  /** Stream → performance.now() from which every publisher push to it must arrive. */
  readonly entitled = new Map<string, number>();
  /** Stream → publisher seqs received. */
  readonly got = new Map<string, Set<number>>();
  readonly groups: string[] = [];
  private recovery: PromiseWithResolvers<void> | null = null;
  private welcome: PromiseWithResolvers<void> | null = null;
  /** Between a recovering login's welcome and its recovery frame: pushes now are the replay. */
  private recovering = false;

  constructor(readonly uid: string, readonly reconnecting: boolean, private readonly cfg: VerifyConfig, private readonly api: Api) {}

  /** The streams this verifier's completeness is judged on. */
  verifiedStreams(): string[] {
    return [`uid:${this.uid}`, "all", ...this.groups.map((g) => `group:${g}`)];
  }

  private onFrame(text: string): void {
    const f = JSON.parse(text) as {
      type: string; stream?: string; epoch?: string; offset?: number; data?: unknown; clientId?: string;
      streams?: { stream: string; epoch: string; offset: number; recovered?: boolean; replayed?: number; reason?: string }[];
    };
    if (f.type === "push" && f.stream !== undefined) this.onPush(f.stream, f.epoch!, f.offset!, f.data);
    else if (f.type === "welcome") {
      this.clientId = f.clientId!;
      const now = performance.now();
      for (const s of f.streams!) {
        if (this.streams.has(s.stream)) continue; // recovering: the replay and `recovery` follow
        this.streams.set(s.stream, { epoch: s.epoch, offset: s.offset, skipped: new Set() });
        this.entitled.set(s.stream, now);
      }
      this.recovering = this.recovery !== null;
      this.welcome?.resolve();
    } else if (f.type === "recovery") {
      totals.recoveries++;
      this.recovering = false;
      for (const s of f.streams!) {
        totals.replayed += s.replayed ?? 0;
        const st = this.streams.get(s.stream);
        if (s.recovered) {
          totals.recoveredStreams++;
          if (!st || st.epoch !== s.epoch || st.offset !== s.offset) totals.recoveryMismatch++;
        } else {
          bump(totals.notRecovered, s.reason ?? "?");
          this.streams.set(s.stream, { epoch: s.epoch, offset: s.offset, skipped: new Set() });
        }
      }
      this.recovery?.resolve();
    } else totals.unexpectedFrames++;
  }

  private onPush(stream: string, epoch: string, offset: number, data: unknown): void {
    totals.pushes++;
    if (this.recovering) totals.replayedSeen++;
    const st = this.streams.get(stream);
    if (!st) {
      // A group joined over the API: its first push sets the position.
      this.streams.set(stream, { epoch, offset, skipped: new Set() });
    } else if (epoch !== st.epoch) {
      totals.epochChanges++;
      st.epoch = epoch;
      st.offset = offset;
      st.skipped.clear();
    } else if (offset === st.offset + 1) {
      st.offset = offset;
    } else if (offset > st.offset + 1) {
      for (let k = st.offset + 1; k < offset && st.skipped.size < MAX_SKIP_LIST; k++) st.skipped.add(k);
      st.offset = offset;
    } else if (st.skipped.delete(offset)) {
      totals.outOfOrder++;
    } else {
      totals.duplicates++;
    }
    const m = typeof data === "string" ? /^P(\d+)\|/.exec(data) : null;
    if (m) {
      let set = this.got.get(stream);
      if (!set) this.got.set(stream, (set = new Set()));
      const seq = Number(m[1]);
      if (set.has(seq)) totals.duplicatePayloads++;
      else set.add(seq);
    }
  }

  /** Connects and logs in (with `recover` for every stream it holds a position in, after the first time). */
  async login(): Promise<boolean> {
    const recover = this.streams.size ? Object.fromEntries([...this.streams].map(([s, p]) => [s, { epoch: p.epoch, offset: p.offset }])) : null;
    let conn: WsConn;
    try {
      conn = await WsConn.connect(this.uid, { host: this.cfg.host, port: this.cfg.port, localAddress: `127.0.0.${1 + between(0, this.cfg.sources - 1)}`, json: true }, OP_MS);
    } catch (e) {
      noteError(`${this.uid} connect: ${(e as Error).message}`);
      return false;
    }
    this.welcome = Promise.withResolvers<void>();
    this.recovery = recover ? Promise.withResolvers<void>() : null;
    conn.handler = (_c, buf, start, end) => this.onFrame(buf.toString("utf8", start, end));
    conn.sendText(JSON.stringify({ type: "auth", uid: this.uid, ...(recover ? { recover } : {}) }));
    const done = Promise.all([this.welcome.promise, this.recovery?.promise]);
    if (!(await settlesWithin(done, OP_MS)) || !conn.open) {
      noteError(`${this.uid}: no ${this.recovery ? "recovery" : "welcome"} within ${OP_MS} ms (open ${conn.open}, close ${conn.closeCode})`);
      conn.reset();
      return false;
    }
    this.conn = conn;
    return true;
  }

  /** Logs in, retrying a few times; counts a failure per attempt. */
  async loginRetrying(): Promise<boolean> {
    for (let i = 0; i < 5; i++) {
      if (await this.login()) return true;
      totals.loginFailures++;
      await Bun.sleep(1000);
    }
    return false;
  }

  /** Steady verifiers join their groups once; entitled from the answer on. */
  async joinGroups(groups: string[]): Promise<void> {
    for (const g of groups) {
      const a = await this.api.call("joinGroup", { clientId: this.clientId, group: g }, OP_MS).catch((e: Error) => ({ code: e.message, result: undefined }));
      if (a.result === 1) {
        this.groups.push(g);
        this.entitled.set(`group:${g}`, performance.now());
      } else {
        totals.joinFailures++;
        noteError(`${this.uid} joinGroup ${g}: ${a.code}`);
      }
    }
  }

  /** Drops the connection one of three ways and waits for its socket to close (no frame of it is read after). */
  private async drop(): Promise<void> {
    const conn = this.conn!;
    this.conn = null;
    const mode = pick(["clean", "clean", "reset", "fin"] as const);
    bump(totals.closeModes, mode);
    if (mode === "reset") conn.reset();
    else if (mode === "fin") {
      conn.open = false; // close() then skips the close frame and just destroys the socket
      conn.close(0);
    } else conn.close(3000);
    await settlesWithin(conn.closed, 4000);
    totals.unexpectedFrames += conn.unexpectedFrames;
  }

  /** Reconnecting verifiers: drop, stay away, log in with recover — until stopped. */
  async cycle(): Promise<void> {
    while (await pause(between(...this.cfg.reconnectEveryMs))) {
      if (!this.conn?.open) break; // closed under us: counted by the watcher
      await this.drop();
      await Bun.sleep(between(...this.cfg.offlineMs));
      totals.reconnects++;
      if (!(await this.loginRetrying())) return;
      this.watch();
    }
  }

  /** Counts a close this verifier did not ask for. */
  watch(): void {
    const conn = this.conn!;
    conn.closed.then(() => {
      if (this.conn === conn && !stopping) bump(totals.unexpectedCloses, String(conn.closeCode || 1006));
    });
  }

  /** Publisher pushes to `stream` this verifier should have and has not. */
  missing(sent: ReadonlyMap<string, Sent[]>): number {
    let n = 0;
    for (const s of this.verifiedStreams()) {
      const from = this.entitled.get(s) ?? Infinity;
      const got = this.got.get(s);
      for (const r of sent.get(s) ?? []) if (r.ok === true && r.tSend >= from && !got?.has(r.seq)) n++;
    }
    return n;
  }

  skipped(): number {
    let n = 0;
    for (const st of this.streams.values()) n += st.skipped.size;
    return n;
  }
}

class Publisher {
  /** Pushes to the verifiers' streams, by stream. */
  readonly sent = new Map<string, Sent[]>();
  private seq = 0;
  private inFlight = 0;
  private readonly idle = new Set<() => void>();

  constructor(private readonly cfg: VerifyConfig, private readonly api: Api, private readonly verifierUids: string[], private readonly verified: Set<string>) {}

  private record(stream: string, tSend: number): Sent | null {
    if (!this.verified.has(stream)) return null;
    const r: Sent = { seq: this.seq, tSend, ok: null };
    let list = this.sent.get(stream);
    if (!list) this.sent.set(stream, (list = []));
    list.push(r);
    return r;
  }

  /** One push call: (method, params without data/idempotencyKey, stream) → data `P<seq>|<stream>`. */
  private call(method: string, params: Record<string, unknown>, stream: string): { params: Record<string, unknown>; rec: Sent | null } {
    const seq = ++this.seq;
    const rec = this.record(stream, performance.now());
    return { params: { ...params, data: `P${seq}|${stream}`, idempotencyKey: `p${seq}` }, rec };
  }

  private async post(method: string, params: unknown, recs: (Sent | null)[], isBatch: boolean): Promise<void> {
    totals.publishRequests++;
    this.inFlight++;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) {
          totals.publishRetries++;
          await Bun.sleep(50);
        }
        let a;
        try {
          a = await this.api.call(method, params, OP_MS);
        } catch (e) {
          noteError(`${method}: ${(e as Error).message}`);
          if (e instanceof TimeoutError) break;
          continue;
        }
        if (a.code) {
          bump(totals.httpErrors, `${method}:${a.code}`);
          for (const r of recs) if (r) r.ok = false;
          return;
        }
        const entries = isBatch ? (a.result as { result?: unknown; error?: { code: string } }[]) : [{ result: a.result }];
        recs.forEach((r, i) => {
          const e = entries[i];
          if (e?.error) bump(totals.httpErrors, `${method}[]:${e.error.code}`);
          if (r) r.ok = e !== undefined && e.error === undefined;
        });
        totals.published += recs.length;
        return;
      }
      totals.publishFailed += recs.length;
    } finally {
      if (--this.inFlight === 0) for (const f of this.idle) f();
    }
  }

  private churnUid(): string {
    return `${CHURN_UID_PREFIX}${between(0, this.cfg.churnUidPool - 1)}`;
  }

  private one(kind: "uid" | "group" | "all" | "batch"): void {
    if (this.inFlight >= 64) {
      totals.publishSkipped++;
      return;
    }
    if (kind === "uid") {
      const uid = Math.random() < 0.6 ? pick(this.verifierUids) : this.churnUid();
      const c = this.call("sendToUid", { uid }, `uid:${uid}`);
      void this.post("sendToUid", c.params, [c.rec], false);
    } else if (kind === "group") {
      const group = Math.random() < 0.6 ? pick(this.cfg.groups) : `${CHURN_GROUP_PREFIX}${between(0, this.cfg.churnGroupPool - 1)}`;
      const c = this.call("sendToGroup", { group }, `group:${group}`);
      void this.post("sendToGroup", c.params, [c.rec], false);
    } else if (kind === "all") {
      const c = this.call("sendToAll", {}, "all");
      void this.post("sendToAll", c.params, [c.rec], false);
    } else {
      const calls = Array.from({ length: this.cfg.publish.batchSize }, () => {
        const uid = Math.random() < 0.8 ? pick(this.verifierUids) : this.churnUid();
        return this.call("sendToUid", { uid }, `uid:${uid}`);
      });
      void this.post("batch", { calls: calls.map((c) => ({ method: "sendToUid", params: c.params })) }, calls.map((c) => c.rec), true);
    }
  }

  /** Fixed rates until stopped, every 20 ms what is due. */
  async run(): Promise<void> {
    const p = this.cfg.publish;
    const rates = [["uid", p.uidPerSec], ["group", p.groupPerSec], ["all", p.allPerSec], ["batch", p.batchPerSec]] as const;
    const done = rates.map(() => 0);
    const t0 = performance.now();
    while (await pause(20)) {
      const elapsed = (performance.now() - t0) / 1000;
      rates.forEach(([kind, rate], i) => {
        const due = Math.floor(elapsed * rate) - done[i]!;
        for (let k = 0; k < due; k++) this.one(kind);
        done[i]! += Math.max(0, due);
      });
    }
    await this.settled(OP_MS * 3 + 1000);
  }

  /** Resolves once no publish is outstanding, or after ms. */
  async settled(ms: number): Promise<void> {
    if (this.inFlight === 0) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.idle.add(resolve);
    await settlesWithin(promise, ms);
    this.idle.delete(resolve);
  }
}

function liveTruth(vs: readonly Verifier[]): { connections: number; uids: string[]; groups: string[] } {
  const open = vs.filter((v) => v.conn?.open);
  return {
    connections: open.length,
    uids: [...new Set(open.map((v) => v.uid))].sort(),
    groups: [...new Set(open.flatMap((v) => v.groups))].sort(),
  };
}

function stat(vs: readonly Verifier[], pub: Publisher | null): Record<string, unknown> {
  const skippedNow = vs.reduce((n, v) => n + v.skipped(), 0);
  return { ...totals, errors: totals.errors.join("; ") || null, skippedNow, open: vs.filter((v) => v.conn?.open).length, sentRecorded: pub ? [...pub.sent.values()].reduce((n, l) => n + l.length, 0) : 0 };
}

if (import.meta.main) {
  const cfg = readConfig<VerifyConfig>("bench/clients/soak-verify.ts", "VerifyConfig", "soak.ts");
  const release = Promise.withResolvers<void>();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of wakers) w();
  };
  process.on("SIGUSR1", stop);
  process.on("SIGUSR2", () => release.resolve());
  setTimeout(stop, cfg.maxMs).unref();

  const api = new Api(cfg.host, cfg.port, 16);
  const n = cfg.steady + cfg.reconnecting;
  const verifiers = Array.from({ length: n }, (_, i) => new Verifier(`${VERIFIER_UID_PREFIX}${i}`, i >= cfg.steady, cfg, api));
  for (const v of verifiers) {
    if (!(await v.loginRetrying())) {
      console.error(`verifier ${v.uid} could not log in: ${totals.errors.join("; ")}`);
      process.exit(1);
    }
    v.watch();
  }
  const G = cfg.groups.length;
  for (let i = 0; i < cfg.steady; i++) await verifiers[i]!.joinGroups(G ? [cfg.groups[i % G]!, cfg.groups[(i + 1) % G]!].filter((g, k, a) => a.indexOf(g) === k) : []);
  const verified = new Set(verifiers.flatMap((v) => v.verifiedStreams()));
  const pub = new Publisher(cfg, api, verifiers.map((v) => v.uid), verified);
  console.log(`READY ${JSON.stringify({ verifiers: n, groups: cfg.groups })}`);
  const statTimer = setInterval(() => printStat(stat(verifiers, pub)), cfg.statEveryMs);

  await Promise.all([pub.run(), ...verifiers.filter((v) => v.reconnecting).map((v) => v.cycle())]);
  // Stopped: wait (bounded) until every recorded push reached every verifier entitled to it.
  const deadline = performance.now() + cfg.drainMs;
  while (performance.now() < deadline && verifiers.some((v) => v.missing(pub.sent) > 0)) await Bun.sleep(100);
  clearInterval(statTimer);

  const missingBy = verifiers.map((v) => v.missing(pub.sent));
  const checked = verifiers.reduce((n, v) => n + v.verifiedStreams().reduce((k, s) => {
    const from = v.entitled.get(s) ?? Infinity;
    return k + (pub.sent.get(s) ?? []).filter((r) => r.ok === true && r.tSend >= from).length;
  }, 0), 0);
  printResult({
    phase: "soak-verify", verifiers: n, steady: cfg.steady, reconnecting: cfg.reconnecting,
    ...stat(verifiers, pub),
    missing: missingBy.reduce((a, b) => a + b, 0), verifiersIncomplete: missingBy.filter((m) => m > 0).length,
    expectedDeliveries: checked,
    skippedOffsets: verifiers.reduce((k, v) => k + v.skipped(), 0),
    ambiguous: [...pub.sent.values()].reduce((k, l) => k + l.filter((r) => r.ok === null).length, 0),
    truth: liveTruth(verifiers),
  });
  await settlesWithin(release.promise, 120_000);
  const conns = verifiers.map((v) => v.conn).filter((c): c is WsConn => c !== null);
  for (const c of conns) c.close(3000);
  await settlesWithin(Promise.all(conns.map((c) => c.closed)), 4000);
  api.close();
  process.exit(0);
}
