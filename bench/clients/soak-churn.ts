// One churn process of the soak (soak.ts starts two): `bun bench/clients/soak-churn.ts '<ChurnConfig JSON>'`.
// It keeps `concurrency` short-lived clients going: each connects (source address 127.0.0.1..8),
// logs in (seed or pushgate.v1), maybe joins a group and sets a session over the HTTP API, sends
// a few frames, lives a random short time and ends in one of several ways — close frame, TCP
// reset, FIN without a close frame, closed by the server (closeClient), dropped mid-login or
// mid-upgrade, or left to the server's login timeout. Prints `STAT <json>` every statEveryMs;
// on SIGUSR1 (or after maxMs) every live client ends its planned way, `RESULT <json>` is printed
// and the process exits.
import net from "node:net";
import { Api, TimeoutError, bump } from "./soak-api.ts";
import {
  CHURN_GROUP_PREFIX, CHURN_UID_PREFIX, type ChurnConfig, between, pick, printStat,
} from "../scenarios/soak-config.ts";
import { printResult, readConfig } from "./load-process.ts";
import { settlesWithin } from "../lib/timeout.ts";
import { WsConn } from "../lib/ws-client.ts";

/** How a churn client ends, with its share of the clients. */
const KINDS = [
  ["clean", 0.37], // close frame 1000, waits for the server's close
  ["reset", 0.25], // TCP RST, no close frame
  ["fin", 0.1], // socket destroyed without a close frame (FIN)
  ["server", 0.08], // the API's closeClient (pushgate.v1 only: it needs the clientId)
  ["midLogin", 0.1], // upgraded, then reset before or right after the login frame
  ["upgradeAbort", 0.07], // half an upgrade request, then reset or FIN
  ["loginTimeout", 0.03], // upgraded, never logs in: the server must close it (1008)
] as const;
type Kind = (typeof KINDS)[number][0];

const OP_MS = 5000;

const c = {
  started: 0, upgraded: 0, loggedIn: 0, loginFailed: 0, connectFailed: 0,
  ended: {} as Record<string, number>,
  unexpectedClose: {} as Record<string, number>,
  loginTimeoutClosed: 0, loginTimeoutNotClosed: 0,
  serverClosed: 0, serverCloseMissing: 0, cleanEchoed: 0,
  joins: 0, leaves: 0, sessions: 0, api: 0, apiErrors: {} as Record<string, number>, apiTimeouts: 0, apiFailed: 0,
  seedSends: 0, jsonSends: 0, replies: 0, replyErrors: {} as Record<string, number>, repliesMissing: 0,
  pushes: 0, misrouted: 0, errorFrames: 0, unexpectedFrames: 0,
  errors: [] as string[],
};
let active = 0;
let fresh = 0;
let stopping = false;
/** Sleepers to wake at the stop (a Set, not reactions on one pending promise, which would pile up until the stop). */
const wakers = new Set<() => void>();

function noteError(e: unknown): void {
  const m = (e as Error).message ?? String(e);
  if (c.errors.length < 5 && !c.errors.includes(m)) c.errors.push(m);
}

function chooseKind(): Kind {
  let r = Math.random();
  for (const [k, w] of KINDS) if ((r -= w) < 0) return k;
  return "clean";
}

/** Sleeps ms, cut short by the stop signal or the connection closing; true if it slept fully. */
async function live(ms: number, conn?: WsConn): Promise<boolean> {
  if (stopping) return false;
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => resolve(true), ms);
  const wake = () => resolve(false);
  wakers.add(wake);
  conn?.closed.then(wake);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
    wakers.delete(wake);
  }
}

class Churner {
  private readonly api: Api;

  constructor(private readonly cfg: ChurnConfig) {
    this.api = new Api(cfg.host, cfg.port, 32);
  }

  private source(): string {
    return `127.0.0.${1 + Math.floor(Math.random() * this.cfg.sources)}`;
  }

  private uid(): string {
    return Math.random() < 0.9 ? `${CHURN_UID_PREFIX}${between(0, this.cfg.uidPool - 1)}` : `f${this.cfg.proc}x${fresh++}`;
  }

  private group(): string {
    const r = Math.random();
    if (r < 0.8) return `${CHURN_GROUP_PREFIX}${between(0, this.cfg.groupPool - 1)}`;
    if (r < 0.9) return `fg${this.cfg.proc}x${fresh++}`;
    return pick(this.cfg.verifierGroups);
  }

  private async apiCall(method: string, params: unknown): Promise<unknown> {
    c.api++;
    try {
      const a = await this.api.call(method, params, OP_MS);
      if (a.code) bump(c.apiErrors, `${method}:${a.code}`);
      return a.code ? undefined : a.result;
    } catch (e) {
      if (e instanceof TimeoutError) c.apiTimeouts++;
      else c.apiFailed++;
      noteError(e);
      return undefined;
    }
  }

  async one(): Promise<void> {
    c.started++;
    active++;
    const kind = chooseKind();
    try {
      if (kind === "upgradeAbort") await this.upgradeAbort();
      else await this.client(kind, kind === "server" || Math.random() < 0.5);
      bump(c.ended, kind);
    } catch (e) {
      noteError(e);
    } finally {
      active--;
    }
  }

  /** TCP connect, half an upgrade request, then an RST or a FIN. */
  private async upgradeAbort(): Promise<void> {
    const s = net.connect({ host: this.cfg.host, port: this.cfg.port, localAddress: this.source() });
    const closed = new Promise<void>((r) => s.on("close", () => r()));
    s.on("error", () => {});
    s.on("connect", () => s.write(`GET / HTTP/1.1\r\nHost: ${this.cfg.host}:${this.cfg.port}\r\nUpgrade: websocket\r\n`));
    await Bun.sleep(between(0, 200));
    if (Math.random() < 0.5) s.resetAndDestroy();
    else s.destroy();
    await settlesWithin(closed, 2000);
  }

  private async client(kind: Exclude<Kind, "upgradeAbort">, json: boolean): Promise<void> {
    const uid = this.uid();
    let conn: WsConn;
    try {
      conn = await WsConn.connect(uid, { host: this.cfg.host, port: this.cfg.port, localAddress: this.source(), json }, OP_MS);
    } catch (e) {
      c.connectFailed++;
      noteError(e);
      return;
    }
    c.upgraded++;
    if (kind === "midLogin") {
      if (Math.random() < 0.5) conn.sendText(json ? `{"type":"auth","uid":"${uid}"}` : uid);
      else await Bun.sleep(between(0, 50));
      conn.reset();
      return;
    }
    if (kind === "loginTimeout") {
      // Nothing sent: the server's login-timeout sweep must close it with 1008.
      await live(this.cfg.loginTimeoutMs + 3000, conn);
      if (!conn.open && conn.closeCode === 1008) c.loginTimeoutClosed++;
      else if (!stopping) c.loginTimeoutNotClosed++;
      conn.reset();
      return;
    }
    const clientId = await this.login(conn, uid, json);
    if (clientId === null) {
      conn.reset();
      return;
    }
    await this.lifetime(conn, uid, json, clientId, kind);
  }

  /** The login frame and its answer; the clientId of a pushgate.v1 welcome ("" for seed), or null. */
  private async login(conn: WsConn, uid: string, json: boolean): Promise<string | null> {
    const reply = Promise.withResolvers<string>();
    conn.handler = (_c, buf, start, end) => reply.resolve(buf.toString("utf8", start, end));
    conn.sendText(json ? `{"type":"auth","uid":"${uid}"}` : uid);
    const got = await Promise.race([reply.promise, Bun.sleep(OP_MS).then(() => null), conn.closed.then(() => null)]);
    if (got === null) {
      c.loginFailed++;
      noteError(new Error(conn.open ? "login reply timeout" : `closed during login (${conn.closeCode})`));
      return null;
    }
    if (json ? !got.startsWith('{"type":"welcome"') : got !== `login success, your uid is ${uid}`) {
      c.loginFailed++;
      noteError(new Error(`unexpected login reply: ${got.slice(0, 80)}`));
      return null;
    }
    c.loggedIn++;
    return json ? ((JSON.parse(got) as { clientId: string }).clientId) : "";
  }

  private async lifetime(conn: WsConn, uid: string, json: boolean, clientId: string, kind: Kind): Promise<void> {
    const pending = new Set<number>();
    let nextId = 1;
    conn.handler = (_c, buf, start, end) => {
      if (json && !(buf[start + 9] === 0x70 && buf.toString("latin1", start, start + 14) === '{"type":"push"')) {
        const f = JSON.parse(buf.toString("utf8", start, end)) as { type: string; id?: number; error?: { code: string }; code?: string };
        if (f.type === "reply" && typeof f.id === "number" && pending.delete(f.id)) {
          c.replies++;
          if (f.error) bump(c.replyErrors, f.error.code);
        } else if (f.type === "error") c.errorFrames++;
        return;
      }
      if (!json && buf[start] === 0x7b && buf.toString("latin1", start, start + 15) === '{"type":"error"') {
        c.errorFrames++;
        return;
      }
      c.pushes++;
      // Payloads name their uid target as `|uid:<uid>`: anything else here is misrouted.
      const at = buf.indexOf("|uid:", start);
      if (at >= 0 && at < end) {
        const stop = json ? buf.indexOf(0x22, at) : end;
        if (buf.toString("utf8", at + 5, stop < 0 || stop > end ? end : stop) !== uid) c.misrouted++;
      }
    };
    let group: string | null = null;
    if (Math.random() < 0.4) {
      const g = this.group();
      const joined = await this.apiCall("joinGroup", json ? { clientId, group: g } : { uid, group: g });
      if (typeof joined === "number") {
        c.joins++;
        group = g;
      }
    }
    if (json && Math.random() < 0.2) {
      if ((await this.apiCall("setSession", { clientId, session: { uid, n: c.started, pad: "x".repeat(between(10, 500)) } })) === true) c.sessions++;
    }
    const life = between(this.cfg.lifeMs[0], this.cfg.lifeMs[1]);
    const sends = between(0, 3);
    let alive = true;
    for (let i = 0; i < sends && alive; i++) {
      alive = await live(life / (sends + 1), conn);
      if (alive) this.send(conn, json, group, () => { pending.add(nextId); return nextId++; });
    }
    if (alive) alive = await live(life / (sends + 1), conn);
    if (!alive && !conn.open && !stopping) {
      bump(c.unexpectedClose, String(conn.closeCode || 1006));
      conn.reset();
      return;
    }
    if (pending.size && !stopping) {
      const deadline = performance.now() + 2000;
      while (pending.size && conn.open && performance.now() < deadline) await Bun.sleep(20);
      c.repliesMissing += conn.open ? pending.size : 0;
    }
    if (group !== null && Math.random() < 0.25) {
      if ((await this.apiCall("leaveGroup", json ? { clientId, group } : { uid, group })) !== undefined) c.leaves++;
    }
    c.unexpectedFrames += conn.unexpectedFrames;
    await this.end(conn, kind, clientId);
  }

  /** One seed `X:payload` or pushgate.v1 `send` to a churn uid, a verifier uid, everyone or its group. */
  private send(conn: WsConn, json: boolean, group: string | null, nextId: () => number): void {
    const r = Math.random();
    const tag = `C${this.cfg.proc}.${c.seedSends + c.jsonSends}`;
    let to: string;
    if (r < 0.01) to = "all";
    else if (r < 0.2 && group !== null && json) to = `group:${group}`;
    else to = `uid:${r < 0.4 ? pick(this.cfg.verifierUids) : `${CHURN_UID_PREFIX}${between(0, this.cfg.uidPool - 1)}`}`;
    const payload = `${tag}|${to}`;
    if (json) {
      c.jsonSends++;
      conn.sendText(`{"type":"send","id":${nextId()},"to":"${to}","data":"${payload}"}`);
    } else if (!to.startsWith("group:")) {
      c.seedSends++;
      conn.sendText(`${to === "all" ? "all" : to.slice(4)}:${payload}`);
    }
  }

  private async end(conn: WsConn, kind: Kind, clientId: string): Promise<void> {
    if (kind === "reset" || stopping && kind === "server") {
      conn.reset();
      return;
    }
    if (kind === "fin") {
      // close() writes a close frame only while `open`: cleared first, it just destroys the
      // socket (a FIN, no close frame), like a client process that dies.
      conn.open = false;
      conn.close(0);
      await settlesWithin(conn.closed, 2000);
      return;
    }
    if (kind === "server") {
      if ((await this.apiCall("closeClient", { clientId, reason: "soak" })) === true && await settlesWithin(conn.closed, 3000) && conn.closeCode === 1000) c.serverClosed++;
      else c.serverCloseMissing++;
      conn.reset();
      return;
    }
    conn.close(3000);
    await settlesWithin(conn.closed, 3000);
    if (conn.closeCode === 1000) c.cleanEchoed++;
  }

  /** Starts clients until stopped: at most `concurrency` live, at most connectsPerSec new per second. */
  async run(): Promise<void> {
    const t0 = performance.now();
    const tasks = new Set<Promise<void>>();
    let startedHere = 0;
    while (!stopping) {
      const budget = Math.floor(((performance.now() - t0) / 1000) * this.cfg.connectsPerSec) - startedHere;
      for (let i = 0; i < budget && active < this.cfg.concurrency; i++) {
        startedHere++;
        const t = this.one();
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
      await live(10);
    }
    await settlesWithin(Promise.all(tasks), 10_000);
    this.api.close();
  }
}

function snapshot(): Record<string, unknown> {
  return { ...c, active, errors: c.errors.join("; ") || null };
}

if (import.meta.main) {
  const cfg = readConfig<ChurnConfig>("bench/clients/soak-churn.ts", "ChurnConfig", "soak.ts");
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of wakers) w();
  };
  process.on("SIGUSR1", stop);
  setTimeout(stop, cfg.maxMs).unref();
  const stat = setInterval(() => printStat({ proc: cfg.proc, ...snapshot() }), cfg.statEveryMs);
  await new Churner(cfg).run();
  clearInterval(stat);
  printResult({ phase: "soak-churn", proc: cfg.proc, ...snapshot() });
  process.exit(0);
}
