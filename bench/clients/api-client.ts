// The api scenario's load process, run by run.ts: bun bench/clients/api-client.ts '<ApiLoadConfig JSON>'
// Logs R seed clients in (uids u0..u<R-1>), then pushes to them over pushgate's HTTP API:
//   api-single: POST /api/sendToUid {uid, data} at a fixed rate (open loop, at most maxInFlight
//               requests outstanding; a request due while the cap is reached is skipped, counted).
//   api-batch:  POST /api/batch with `size` sendToUid calls per request, `concurrency` requests
//               outstanding, for a fixed time.
// Every push names its target uid in the payload (`<phase>:<seq>|<uid>`), so each receiving
// client checks it got what was addressed to it (misrouted otherwise) exactly once. Prints
// `RESULT <json>` per phase on stdout and exits.
import { printResult, readConfig } from "./load-process.ts";
import { closePool, openPool } from "../lib/client-pool.ts";
import { HttpPool } from "../lib/http-client.ts";
import { procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import type { Params } from "../lib/params.ts";
import { percentiles } from "../lib/stats.ts";
import type { WsConn } from "../lib/ws-client.ts";

export interface ApiLoadConfig {
  host: string;
  port: number;
  serverPid: number | null;
  sources: number;
  connectTimeoutMs: number;
  api: Params["api"];
}

type Result = { phase: string } & Record<string, number | string | null>;

/** Delivery bookkeeping of one phase: what each client should get and what it got. */
class Deliveries {
  readonly seen: Uint8Array;
  readonly expected: Int32Array;
  readonly got: Int32Array;
  delivered = 0;
  duplicates = 0;
  misrouted = 0;
  malformed = 0;
  lastNs = 0;
  constructor(readonly tag: string, maxSeq: number, clients: number) {
    this.seen = new Uint8Array(maxSeq);
    this.expected = new Int32Array(clients);
    this.got = new Int32Array(clients);
  }
  onText = (c: WsConn, buf: Buffer, start: number, end: number, now: number) => {
    const text = buf.toString("latin1", start, end);
    const colon = text.indexOf(":");
    const bar = text.indexOf("|");
    const seq = Number(text.slice(colon + 1, bar));
    if (text.slice(0, colon) !== this.tag || bar < 0 || !Number.isInteger(seq) || seq < 0 || seq >= this.seen.length) { this.malformed++; return; }
    if (text.slice(bar + 1) !== c.uid) { this.misrouted++; return; }
    if (this.seen[seq]) { this.duplicates++; return; }
    this.seen[seq] = 1;
    this.got[c.slot] = this.got[c.slot]! + 1;
    this.delivered++;
    this.lastNs = now;
  };
  async drain(sent: number, ms: number): Promise<void> {
    const end = Bun.nanoseconds() + ms * 1e6;
    while (this.delivered < sent && Bun.nanoseconds() < end) await Bun.sleep(5);
  }
  /** Clients that got exactly what was sent to them. */
  complete(): number {
    let n = 0;
    for (let k = 0; k < this.got.length; k++) if (this.got[k] === this.expected[k]) n++;
    return n;
  }
}

if (import.meta.main) {
  const cfg = readConfig<ApiLoadConfig>("bench/clients/api-client.ts", "ApiLoadConfig", "run.ts");
  const progress = (msg: string) => process.stderr.write(`  [api ${cfg.port}] ${msg}\n`);
  const report = (r: Result) => printResult(r);
  // Keep-alive sockets, one request each at a time (see http-client.ts): at most 256 + 4 in flight.
  const http = new HttpPool(cfg.host, cfg.port, cfg.api.single.maxInFlight + cfg.api.batch.concurrency);
  const post = async (method: string, body: unknown): Promise<unknown> => {
    const res = await http.post(`/api/${method}`, JSON.stringify(body));
    const json = JSON.parse(res.body) as { result?: unknown; error?: { code: string } };
    if (res.status !== 200 || json.result === undefined) throw new Error(`HTTP ${res.status} ${json.error?.code ?? ""}`);
    return json.result;
  };

  const pool = await openPool({
    host: cfg.host, port: cfg.port, clients: cfg.api.receivers, sources: cfg.sources,
    concurrency: 64, timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000,
  });
  const conns = pool.conns;
  conns.forEach((c, k) => { c.slot = k; });
  const R = conns.length;
  progress(`${R}/${cfg.api.receivers} receivers logged in` + (pool.errors.length ? `; errors: ${pool.errors.join("; ")}` : ""));
  const errors = new Set<string>();
  const fail = (e: unknown) => { if (errors.size < 5) errors.add((e as Error).message); };

  if (R > 0) {
    // api-single: one sendToUid per request at a fixed rate.
    const o = cfg.api.single;
    const total = Math.floor(o.rate * o.seconds);
    const d = new Deliveries("s", total, R);
    for (const c of conns) c.handler = d.onText;
    const lat = new Float64Array(total);
    let done = 0, httpErrors = 0, notReached = 0, inFlight = 0, skipped = 0, sent = 0, seq = 0;
    const pending = new Set<Promise<void>>();
    const cpu0 = selfCpuMs(), srv0 = procCpuMs(cfg.serverPid);
    const t0 = Bun.nanoseconds();
    while (seq < total) {
      if (Bun.nanoseconds() - t0 > o.seconds * 1.5e9) { fail(new Error(`sending took over ${o.seconds * 1.5} s`)); break; }
      const due = Math.min(total, Math.floor(((Bun.nanoseconds() - t0) / 1e9) * o.rate));
      for (; seq < due; seq++) {
        if (inFlight >= o.maxInFlight) { skipped++; continue; }
        const k = Math.floor(Math.random() * R);
        const uid = conns[k]!.uid;
        d.expected[k] = d.expected[k]! + 1;
        inFlight++;
        sent++;
        const at = Bun.nanoseconds();
        const p = post("sendToUid", { uid, data: `s:${seq}|${uid}` }).then(
          (r) => { lat[done++] = (Bun.nanoseconds() - at) / 1e6; if ((r as { reached?: number }).reached !== 1) notReached++; },
          (e) => { httpErrors++; fail(e); },
        ).finally(() => { inFlight--; pending.delete(p); });
        pending.add(p);
      }
      await Bun.sleep(1); // 1 ms ticks: at 5,000 req/s a burst is 5 requests
    }
    const sendEnd = Bun.nanoseconds();
    await Promise.race([Promise.all(pending), Bun.sleep(o.drainMs)]);
    await d.drain(sent, o.drainMs);
    const srv1 = procCpuMs(cfg.serverPid);
    const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
    const srvMs = srv0 === null || srv1 === null ? null : srv1 - srv0;
    const [p50, p99, max] = percentiles(lat, done, [50, 99, 100]);
    report({
      phase: "api-single", rate: o.rate, seconds: o.seconds, requests: sent, skipped,
      requestRate: sent / ((sendEnd - t0) / 1e9), responses: done, httpErrors, notReached,
      delivered: d.delivered, loss: sent - d.delivered, misrouted: d.misrouted, duplicates: d.duplicates, malformed: d.malformed,
      clientsComplete: d.complete(), clients: R,
      pushesPerSec: d.delivered / (((d.lastNs || Bun.nanoseconds()) - t0) / 1e9),
      requestP50Ms: p50 ?? null, requestP99Ms: p99 ?? null, requestMaxMs: max ?? null,
      serverCpuMs: srvMs, serverCpuUsPerPush: srvMs === null || sent === 0 ? null : (srvMs * 1000) / sent,
      clientCpuUtil: (selfCpuMs() - cpu0) / elapsedMs, errors: [...errors].join("; ") || null,
    });
    progress(`single: ${d.delivered}/${sent} delivered, ${skipped} skipped, ${httpErrors} HTTP errors`);
    await Bun.sleep(200);
  }

  if (R > 0) {
    // api-batch: `size` sendToUid calls per request, `concurrency` requests outstanding.
    errors.clear();
    const o = cfg.api.batch;
    const maxSeq = 5_000_000;
    const d = new Deliveries("b", maxSeq, R);
    for (const c of conns) c.handler = d.onText;
    const lat: number[] = [];
    let sent = 0, httpErrors = 0, notReached = 0, requests = 0;
    const cpu0 = selfCpuMs(), srv0 = procCpuMs(cfg.serverPid);
    const t0 = Bun.nanoseconds();
    const worker = async () => {
      while (Bun.nanoseconds() - t0 < o.seconds * 1e9 && sent + o.size <= maxSeq) {
        const calls = [];
        const ks: number[] = [];
        for (let i = 0; i < o.size; i++) {
          const k = Math.floor(Math.random() * R);
          const uid = conns[k]!.uid;
          ks.push(k);
          calls.push({ method: "sendToUid", params: { uid, data: `b:${sent++}|${uid}` } });
        }
        for (const k of ks) d.expected[k] = d.expected[k]! + 1;
        requests++;
        const at = Bun.nanoseconds();
        try {
          const out = (await post("batch", { calls })) as Array<{ result?: { reached?: number } }>;
          lat.push((Bun.nanoseconds() - at) / 1e6);
          for (const x of out) if (x.result?.reached !== 1) notReached++;
        } catch (e) {
          httpErrors++;
          fail(e);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    await d.drain(sent, o.drainMs);
    const srv1 = procCpuMs(cfg.serverPid);
    const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
    const srvMs = srv0 === null || srv1 === null ? null : srv1 - srv0;
    const [p50, p99, max] = percentiles(Float64Array.from(lat), lat.length, [50, 99, 100]);
    report({
      phase: "api-batch", size: o.size, concurrency: o.concurrency, seconds: o.seconds, requests, sent, httpErrors, notReached,
      delivered: d.delivered, loss: sent - d.delivered, misrouted: d.misrouted, duplicates: d.duplicates, malformed: d.malformed,
      clientsComplete: d.complete(), clients: R,
      uidPushesPerSec: d.delivered / (((d.lastNs || Bun.nanoseconds()) - t0) / 1e9),
      requestP50Ms: p50 ?? null, requestP99Ms: p99 ?? null, requestMaxMs: max ?? null,
      serverCpuMs: srvMs, serverCpuUsPerPush: srvMs === null || sent === 0 ? null : (srvMs * 1000) / sent,
      clientCpuUtil: (selfCpuMs() - cpu0) / elapsedMs, errors: [...errors].join("; ") || null,
    });
    progress(`batch: ${d.delivered}/${sent} delivered in ${requests} requests, ${httpErrors} HTTP errors`);
  }
  http.close();
  await closePool(conns, 2000);
  process.exit(0);
}
