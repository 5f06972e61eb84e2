// The adversarial scenario's input classes: for each path into pushgate, the costliest inputs
// that can be built under the default limits (adversarial-inputs.ts LIMITS), each sent as a
// bounded series — sequentially (one at a time, each after its answer) and a few at once. To add
// a class, append to CLASSES: a name, the server it needs ("uid", or "jwt" for tokens) and its
// inputs; an input opens what it needs in setup() (outside the measured windows) and returns the
// phases to measure. Sizes are computed from LIMITS, so a changed default changes the inputs.
import { clientFrame, type Classify } from "./adversarial-ws.ts";
import {
  HS256_HEADER, LIMITS, atDepthLimit, deepArrays, deepObjects, deepestArrays, hs256, padded, paddedToken, stringOf, wide,
} from "./adversarial-inputs.ts";
import {
  type Ctx, FAN_CONNS, FAN_UID, type Input, type Phase, SINKS, type World, apiPhases, authAnswer, burstFrames, seedAnswer, seqFrames, v1Answer,
} from "./adversarial-world.ts";
import type { AttackWs } from "./adversarial-ws.ts";

export interface AttackClass {
  name: string;
  /** "uid": the default server (with World); "jwt": the --auth jwt server. */
  server: "uid" | "jwt";
  what: string;
  inputs: Input[];
}

const FRAME = LIMITS.maxPayload;
const BODY = LIMITS.apiMaxBody;
/** The issue's 100,000 levels, or as deep as a body within the limit holds. */
/** sendToUid calls to a 128-character sink uid (with some data) that one body holds, at most a batch. */
const SINK_CALLS = Math.min(LIMITS.apiMaxBatch, Math.floor(BODY / 260));
const DEEP = Math.min(100_000, Math.floor((BODY - 300) / 2));
const BODY_LABEL = BODY >= 1024 * 1024 ? `${BODY / (1024 * 1024)} MiB` : `${Math.round(BODY / 1024)} KiB`;
const OFFLINE = "offline-target";
/** Levels of a value whose enclosing frame/body object makes it exactly the depth limit. */
const AT_LIMIT = LIMITS.maxJsonDepth - 1;

const sendPrefix = (to: string) => `{"type":"send","id":1,"to":"${to}","data":`;
const apiPrefix = (uid: string) => `{"uid":${JSON.stringify(uid)},"data":`;
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
let uniq = 0;
/** A fresh attacker uid (a new one per input, so pushes to self reach only that connection). */
const att = (base: string) => `att-${base}-${++uniq}`;

let worldRef: World | null = null;
function world(): World {
  if (!worldRef) throw new Error("this input needs the uid server's world");
  return worldRef;
}
export function setWorld(w: World | null): void {
  worldRef = w;
}

/**
 * A pushgate.v1 (or seed) input: `seq` frames one at a time on one connection, then `conc`
 * connections each writing `burst` frames at the same instant. frame(uid) may address the
 * connection's own uid (a push back to itself: envelope, publish and history all run).
 */
function wsInput(name: string, o: {
  seed?: boolean; frame: (uid: string) => string; seq: number; conc: number; burst?: number; classify?: Classify;
  /** Answers each burst connection waits for (default one per frame it wrote). */
  want?: (conc: number, burst: number) => number;
}): Input {
  return {
    name,
    async setup(ctx) {
      const burst = o.burst ?? 1;
      const classify = o.classify ?? (o.seed ? seedAnswer : v1Answer);
      const login = async (): Promise<{ conn: AttackWs; uid: string }> => {
        const uid = att(o.seed ? "seed" : "v1");
        return { conn: o.seed ? await ctx.seed(uid) : (await ctx.v1({ uid })).conn, uid };
      };
      const phases: Phase[] = [];
      if (o.seq > 0) {
        const s = await login();
        const f = clientFrame(o.frame(s.uid));
        phases.push(seqFrames(`seq ×${o.seq}`, [s.conn], times(o.seq, () => f), classify));
      }
      if (o.conc > 0) {
        const cs = await Promise.all(times(o.conc, login));
        const frames = cs.map((c) => { const f = clientFrame(o.frame(c.uid)); return times(burst, () => f); });
        phases.push(burstFrames(`conc ${o.conc}×${burst}`, cs.map((c) => c.conn), frames, classify, o.want ? () => o.want!(o.conc, burst) : undefined));
      }
      return phases;
    },
  };
}

/** A body over the limit would only measure the 413: every input is built to fit. */
function fits(body: string): string {
  if (Buffer.byteLength(body) > BODY) throw new Error(`input body is ${Buffer.byteLength(body)} B, over --api-max-body ${BODY}`);
  return body;
}

/** An API input: `seq` requests one at a time, then `conc` at once; body(ctx) built in setup. */
function apiInput(name: string, method: string, body: (ctx: Ctx) => string | Promise<string>, seq: number, conc: number): Input {
  return { name, async setup(ctx) { return apiPhases(ctx, method, fits(await body(ctx)), seq, conc); } };
}

/** { calls: [...] } of n calls built by call(i), as text. */
function batchOf(n: number, call: (i: number) => { method: string; params?: unknown }): string {
  return JSON.stringify({ calls: times(n, call) });
}

/** `{"calls":[…]}` of n call texts, each filled by call(budget, i) to its share of the body limit. */
function batchFilled(n: number, call: (budget: number, i: number) => string): string {
  const budget = Math.floor((BODY - '{"calls":[]}'.length - (n - 1)) / n);
  return `{"calls":[${times(n, (i) => call(budget, i)).join(",")}]}`;
}

/** Sink i of the world (mod SINKS). */
const sink = (i: number) => world().sinks[i % SINKS]!;

// ---- pushgate.v1 frames ----------------------------------------------------------------------

const wsV1Deep: AttackClass = {
  name: "ws-v1-deep", server: "uid",
  what: "pushgate.v1 frames nested as deep as 64 KiB allows (the issue's defect 1), and at the depth limit",
  inputs: [
    wsInput("send data: ~32,700 nested arrays (64 KiB), offline target", {
      frame: () => deepestArrays(sendPrefix(`uid:${OFFLINE}`), "}", FRAME), seq: 5, conc: 3,
    }),
    wsInput("send data: ~10,900 nested objects (64 KiB)", {
      frame: () => sendPrefix(`uid:${OFFLINE}`) + deepObjects(Math.floor((FRAME - sendPrefix(`uid:${OFFLINE}`).length - 1) / 6)) + "}", seq: 3, conc: 2,
    }),
    wsInput("ping with an unused member ~32,700 arrays deep", {
      frame: () => deepestArrays('{"type":"ping","id":1,"x":', "}", FRAME), seq: 9, conc: 3,
    }),
    wsInput(`send data at the depth limit (${LIMITS.maxJsonDepth} with the frame), 64 KiB wide`, {
      frame: (uid) => atDepthLimit(sendPrefix(`uid:${uid}`), "}", FRAME, AT_LIMIT), seq: 9, conc: 3, burst: 3,
    }),
    wsInput("send data: brackets inside strings after an escaped backslash (must not count as depth)", {
      frame: (uid) => `${sendPrefix(`uid:${uid}`)}["\\\\","${"[".repeat(FRAME - sendPrefix(`uid:${uid}`).length - 12)}"]}`, seq: 5, conc: 0,
    }),
  ],
};

/** Wide `data` shapes that fill a 64 KiB frame (all at depth ≤ 3). */
const WIDE_DATA: readonly [string, (prefix: string) => string][] = [
  ["~32,700 zeros", (p) => wide(p, "}", FRAME, () => "0")],
  ["~21,800 empty objects", (p) => wide(p, "}", FRAME, () => "{}")],
  ["~5,900 distinct keys", (p) => wide(p, "}", FRAME, (i) => `"${i.toString(36)}":0`, "{", "}")],
  ["~8,100 duplicate keys", (p) => wide(p, "}", FRAME, () => '"a":0', "{", "}")],
  ["~2,700 longest doubles", (p) => wide(p, "}", FRAME, () => "-1.7976931348623157e308")],
  ["string of ~10,900 \\u0001 escapes", (p) => stringOf(p, "}", FRAME, "\\u0001")],
  ["string of ~5,400 escaped surrogate pairs", (p) => stringOf(p, "}", FRAME, "\\ud83d\\ude00")],
];

const wsV1Wide: AttackClass = {
  name: "ws-v1-wide", server: "uid",
  what: "pushgate.v1 send of 64 KiB wide data to the sender's own uid (parse, stringify, envelope, publish, history)",
  inputs: WIDE_DATA.map(([name, build]) => wsInput(`send data: ${name}`, { frame: (uid) => build(sendPrefix(`uid:${uid}`)), seq: 20, conc: 3, burst: 10 })),
};

/** `"uid:r…":{"epoch":"…","offset":2^53-1}` entries filling what is left of a 64 KiB frame. */
function recoverEntries(n: number, budget: number, first: Record<string, { epoch: string; offset: number }> = {}): string {
  const head = Object.entries(first).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  const per = Math.floor(budget / n);
  const fixed = `"uid:r":{"epoch":"","offset":${Number.MAX_SAFE_INTEGER}},`.length + 4;
  const nameLen = Math.max(4, Math.min(60, Math.floor((per - fixed) / 2)));
  const epochLen = Math.max(1, Math.min(64, per - fixed - nameLen));
  const rest = times(n - head.length, (i) => `"uid:${padded(`r${i}-`, nameLen)}":{"epoch":"${"e".repeat(epochLen)}","offset":${Number.MAX_SAFE_INTEGER}}`);
  return "{" + [...head, ...rest].join(",") + "}";
}

function recoverAuth(login: string, n: number, first: Record<string, { epoch: string; offset: number }> = {}): string {
  const prefix = `{"type":"auth",${login},"recover":`;
  return prefix + recoverEntries(n, FRAME - prefix.length - 3, first) + "}";
}

/** Fresh not-logged-in pushgate.v1 connections, each sending one auth frame: seq one by one, then conc at once. */
function authInput(name: string, o: { frame: () => string | Promise<string>; seq: number; conc: number; classify: Classify }): Input {
  return {
    name,
    async setup(ctx) {
      const frame = clientFrame(await o.frame());
      const open = () => ctx.ws({ v1: true });
      const seqConns = await Promise.all(times(o.seq, open));
      const concConns = await Promise.all(times(o.conc, open));
      const phases: Phase[] = [];
      if (o.seq > 0) {
        phases.push({
          label: `seq ×${o.seq}`, sent: o.seq, atOnce: false,
          async run() {
            const answers = new Map<string, number>();
            let maxAnswerMs = 0;
            for (const c of seqConns) {
              const t0 = performance.now();
              const got = c.answer(o.classify, 30_000);
              c.write(frame);
              const tag = await got;
              answers.set(tag, (answers.get(tag) ?? 0) + 1);
              maxAnswerMs = Math.max(maxAnswerMs, performance.now() - t0);
            }
            return { answers, maxAnswerMs };
          },
        });
      }
      if (o.conc > 0) phases.push(burstFrames(`conc ${o.conc}×1`, concConns, concConns.map(() => [frame]), o.classify, () => 1));
      return phases;
    },
  };
}

/**
 * Fills uid:<victim>'s history with `n` pushes of ~`bytes` and returns its epoch. The pushes go
 * through the API one by one (a client's burst of large frames is rate-limited by size), while the
 * victim's pushgate.v1 connection is open so the stream is kept.
 */
async function fillOwnHistory(ctx: Ctx, uid: string, n: number, bytes: number): Promise<string> {
  const { conn, welcome } = await ctx.v1({ uid });
  const epoch = /"stream":"uid:[^"]*","epoch":"([^"]*)"/.exec(welcome)?.[1] ?? "";
  const data = "x".repeat(Math.max(1, bytes - 64));
  for (let i = 0; i < n; i++) await ctx.apiOk("sendToUid", { uid, data });
  conn.close();
  return epoch;
}

const wsV1Recover: AttackClass = {
  name: "ws-v1-recover", server: "uid",
  what: `pushgate.v1 auth with the largest recover map (${LIMITS.maxRecoverStreams} streams), one over it, and a replay of a full 64 KiB-message history`,
  inputs: [
    authInput(`auth + recover of ${LIMITS.maxRecoverStreams} streams (none subscribed), 64 KiB`, {
      frame: () => recoverAuth(`"uid":"${att("rec")}"`, LIMITS.maxRecoverStreams), seq: 10, conc: 5, classify: authAnswer(true),
    }),
    authInput(`auth + recover of ${LIMITS.maxRecoverStreams + 1} streams`, {
      frame: () => recoverAuth(`"uid":"${att("rec")}"`, LIMITS.maxRecoverStreams + 1), seq: 5, conc: 3, classify: authAnswer(true),
    }),
    {
      name: "auth replaying uid history of 100 × 64 KiB (+1023 unsubscribed streams)",
      async setup(ctx) {
        const victim = att("victim");
        const epoch = await fillOwnHistory(ctx, victim, 100, FRAME);
        const input = authInput("", {
          frame: () => recoverAuth(`"uid":"${victim}"`, LIMITS.maxRecoverStreams, { [`uid:${victim}`]: { epoch, offset: 0 } }),
          seq: 3, conc: 2, classify: authAnswer(true),
        });
        return input.setup(ctx);
      },
    },
  ],
};

const wsV1Burst: AttackClass = {
  name: "ws-v1-burst", server: "uid",
  what: `${LIMITS.rateBurst} max-size pushgate.v1 frames in one write (the whole rate-limit burst), and past it`,
  inputs: [
    wsInput(`${LIMITS.rateBurst} × send of 64 KiB [{},…] to itself in one write`, {
      frame: (uid) => wide(sendPrefix(`uid:${uid}`), "}", FRAME, () => "{}"), seq: 0, conc: 1, burst: LIMITS.rateBurst,
    }),
    wsInput(`4 connections × ${LIMITS.rateBurst} such frames at once (51 MB)`, {
      frame: (uid) => wide(sendPrefix(`uid:${uid}`), "}", FRAME, () => "{}"), seq: 0, conc: 4, burst: LIMITS.rateBurst,
    }),
    wsInput(`${LIMITS.rateBurst + 100} × 64 KiB ping in one write (100 over the rate limit: closes)`, {
      frame: () => stringOf('{"type":"ping","id":1,"pad":', "}", FRAME, "x"), seq: 0, conc: 1, burst: LIMITS.rateBurst + 100,
      // 200 pongs and one E_RATE_LIMITED error, then the close.
      want: () => LIMITS.rateBurst + 2,
    }),
  ],
};

// ---- seed frames -----------------------------------------------------------------------------

/** Every seed attacker connection receives every broadcast (its own and the others'). */
const allBroadcasts = (conc: number, burst: number) => conc * burst;

const wsSeedMax: AttackClass = {
  name: "ws-seed-max", server: "uid",
  what: `seed frames of 64 KiB: all: broadcasts to every connection (~${SINKS + FAN_CONNS + 12} here), a uid with ${LIMITS.maxConnectionsPerUid} connections, bad frames, offline drops`,
  inputs: [
    wsInput("all: 64 KiB broadcast", { seed: true, frame: () => "all:" + "x".repeat(FRAME - 4), seq: 10, conc: 3, burst: 3, want: allBroadcasts }),
    wsInput("all: 64 KiB of \\x01 (6× as JSON for the pushgate.v1 readers)", {
      seed: true, frame: () => "all:" + "\x01".repeat(FRAME - 4), seq: 3, conc: 2, want: allBroadcasts,
    }),
    {
      name: `${FAN_UID}: 64 KiB to a uid with ${LIMITS.maxConnectionsPerUid} connections`,
      async setup(ctx) {
        const frame = clientFrame(`${FAN_UID}:` + "y".repeat(FRAME - FAN_UID.length - 1));
        // The attackers are that uid's last connections, so each push comes back to every one of them.
        const conns = await Promise.all(times(LIMITS.maxConnectionsPerUid - FAN_CONNS, () => ctx.seed(FAN_UID)));
        const [first, ...rest] = conns;
        return [
          seqFrames("seq ×10", [first!], times(10, () => frame), seedAnswer),
          burstFrames(`conc ${rest.length}×3`, rest, rest.map(() => times(3, () => frame)), seedAnswer, () => rest.length * 3),
        ];
      },
    },
    {
      name: "bad frames: 64 KiB without a colon / 129-character targets (10th closes)",
      async setup(ctx) {
        const noColon = clientFrame("z".repeat(FRAME));
        const badTarget = clientFrame("t".repeat(LIMITS.uidMax + 1) + ":" + "p".repeat(FRAME - LIMITS.uidMax - 2));
        const frames = times(LIMITS.maxBadFrames, (i) => (i % 2 ? badTarget : noColon));
        const one = await ctx.seed(att("seed"));
        const many = await Promise.all(times(3, () => ctx.seed(att("seed"))));
        return [
          seqFrames(`seq ×${frames.length}`, [one], frames, seedAnswer),
          burstFrames(`conc 3×${frames.length}`, many, many.map(() => frames), seedAnswer),
        ];
      },
    },
    {
      name: `${LIMITS.rateBurst - 1} × 64 KiB to an offline uid in one write, then a sync to itself`,
      async setup(ctx) {
        const uids = times(3, () => att("seed"));
        const conns = await Promise.all(uids.map((u) => ctx.seed(u)));
        const drop = clientFrame(`${OFFLINE}:` + "d".repeat(FRAME - OFFLINE.length - 1));
        // The login took one token of the burst: 198 drops and the sync fit in what is left.
        const frames = uids.map((u) => [...times(LIMITS.rateBurst - 2, () => drop), clientFrame(`${u}:sync`)]);
        return [burstFrames(`conc 3×${LIMITS.rateBurst - 1}`, conns, frames, seedAnswer, () => 1)];
      },
    },
  ],
};

// ---- HTTP API --------------------------------------------------------------------------------

const apiDeep: AttackClass = {
  name: "api-deep", server: "uid",
  what: `API bodies nested as deep as ${BODY_LABEL} allows (the issue's defect 2), in data, sessions, batch calls and unused members`,
  inputs: [
    apiInput(`sendToUid data: ${DEEP.toLocaleString("en")} nested arrays`, "sendToUid", () => apiPrefix(OFFLINE) + deepArrays(DEEP) + "}", 2, 2),
    apiInput(`sendToUid data: nested arrays filling the largest body (${BODY_LABEL})`, "sendToUid", () => deepestArrays(apiPrefix(OFFLINE), "}", BODY), 2, 2),
    apiInput(`setSession session member ${DEEP.toLocaleString("en")} arrays deep`, "setSession",
      () => `{"clientId":"${sink(0).clientId}","session":{"a":${deepArrays(DEEP)}}}`, 2, 2),
    apiInput(`batch [sendToUid to a sink, sendToUid with ${DEEP.toLocaleString("en")}-deep data]`, "batch",
      () => `{"calls":[{"method":"sendToUid","params":{"uid":"${sink(0).uid}","data":"first"}},{"method":"sendToUid","params":${apiPrefix(OFFLINE)}${deepArrays(DEEP)}}}]}`, 2, 1),
    apiInput(`sendToUid with an unused member arrays deep filling the largest body (${BODY_LABEL})`, "sendToUid",
      () => deepestArrays(`{"uid":"${OFFLINE}","data":1,"junk":`, "}", BODY), 3, 2),
    apiInput(`sendToUid data at the depth limit (${LIMITS.maxJsonDepth} with the body), ${BODY_LABEL} wide`, "sendToUid",
      () => atDepthLimit(apiPrefix(OFFLINE), "}", BODY, AT_LIMIT), 3, 2),
    apiInput(`sendToUid data: ${BODY_LABEL} of brackets inside strings after an escaped backslash`, "sendToUid",
      () => `${apiPrefix(OFFLINE)}["\\\\","${"[".repeat(BODY - apiPrefix(OFFLINE).length - 12)}"]}`, 3, 0),
  ],
};

const apiWide: AttackClass = {
  name: "api-wide", server: "uid",
  what: `${BODY_LABEL} API bodies of wide data (depth ≤ 3) to an offline uid: parse, stringify, history`,
  inputs: [
    ...([
      ["zeros", () => "0", "[", "]"],
      ["empty objects", () => "{}", "[", "]"],
      ["distinct keys", (i: number) => `"${i.toString(36)}":0`, "{", "}"],
      ["longest doubles", () => "-1.7976931348623157e308", "[", "]"],
    ] as const).map(([name, item, open, close]) =>
      apiInput(`sendToUid data: ${BODY_LABEL} of ${name}`, "sendToUid", () => wide(apiPrefix(OFFLINE), "}", BODY, item, open, close), 3, 3)),
    apiInput(`sendToUid data: ${BODY_LABEL} string of \\u0001 escapes`, "sendToUid", () => stringOf(apiPrefix(OFFLINE), "}", BODY, "\\u0001"), 3, 3),
    apiInput(`batch of ${LIMITS.apiMaxBatch} sendToUid, each ~${Math.round(BODY / LIMITS.apiMaxBatch)} B of [{},…]`, "batch",
      () => batchFilled(LIMITS.apiMaxBatch, (b) => wide(`{"method":"sendToUid","params":${apiPrefix(OFFLINE)}`, "}}", b, () => "{}")), 3, 2),
  ],
};

const offlineUid = (i: number) => padded(`off-${i}-`, LIMITS.uidMax);

const apiMaxUids: AttackClass = {
  name: "api-max-uids", server: "uid",
  what: `sendToUid with the largest uid lists (${LIMITS.apiMaxTargets} targets), online (${SINKS} sinks) and offline, and the old code's worst (no list limit)`,
  inputs: [
    apiInput(`${LIMITS.apiMaxTargets} distinct offline 128-char uids + ~880 KB data`, "sendToUid", () => {
      const uids = JSON.stringify(times(LIMITS.apiMaxTargets, offlineUid));
      return stringOf(`{"uid":${uids},"data":`, "}", BODY, "x");
    }, 3, 2),
    apiInput(`${LIMITS.apiMaxTargets} targets: the ${SINKS} online sinks ×5, up to 512 B data (what the body leaves)`, "sendToUid", () => {
      const uid = times(LIMITS.apiMaxTargets, (i) => sink(i).uid);
      const room = BODY - JSON.stringify({ uid, data: "" }).length;
      return JSON.stringify({ uid, data: "o".repeat(Math.max(0, Math.min(512, room))) });
    }, 3, 2),
    apiInput(`${LIMITS.apiMaxTargets + 1} uids (one over the target limit)`, "sendToUid",
      () => JSON.stringify({ uid: times(LIMITS.apiMaxTargets + 1, (i) => `t${i}`), data: "x" }), 2, 0),
    apiInput(`short offline uids filling ${BODY_LABEL} (no list limit in older code)`, "sendToUid",
      () => wide('{"data":"x","uid":', "}", BODY, (i) => `"u${i.toString(36)}"`), 2, 1),
    apiInput(`the ${SINKS} online sinks once, the largest data that fits (${SINKS} × ${Math.round((BODY - 40_000) / 1000)} kB out)`, "sendToUid",
      () => JSON.stringify({ uid: times(SINKS, (i) => sink(i).uid), data: "b".repeat(BODY - 40_000) }), 2, 0),
  ],
};

const apiMaxGroups: AttackClass = {
  name: "api-max-groups", server: "uid",
  what: `sendToGroup with ${LIMITS.apiMaxTargets} group targets over groups of ${SINKS} members (fan-out = targets × members)`,
  inputs: [
    apiInput(`${LIMITS.apiMaxTargets} targets: 16 groups of ${SINKS} repeated, data "x"`, "sendToGroup",
      () => JSON.stringify({ group: times(LIMITS.apiMaxTargets, (i) => world().groups[i % world().groups.length]), data: "x" }), 2, 1),
    apiInput(`${LIMITS.apiMaxTargets} distinct empty 128-char groups + ~870 KB data`, "sendToGroup",
      () => stringOf(`{"group":${JSON.stringify(times(LIMITS.apiMaxTargets, (i) => padded(`empty-${i}-`, LIMITS.uidMax)))},"data":`, "}", BODY, "x"), 3, 2),
  ],
};

const clientIdsTimes = (n: number) => times(n, (i) => sink(i).clientId);

const apiExclude: AttackClass = {
  name: "api-exclude", server: "uid",
  what: "sendToAll / sendToGroup with the largest exclude lists (online connections: unsubscribe and resubscribe per publish)",
  inputs: [
    apiInput(`sendToAll exclude ${LIMITS.apiMaxTargets} (the ${SINKS} sinks ×5)`, "sendToAll",
      () => JSON.stringify({ data: "x", exclude: clientIdsTimes(LIMITS.apiMaxTargets) }), 3, 2),
    apiInput(`sendToAll exclude clientIds filling ${BODY_LABEL} (no list limit in older code)`, "sendToAll",
      () => wide('{"data":"x","exclude":', "}", BODY, (i) => JSON.stringify(sink(i).clientId)), 2, 1),
    apiInput(`sendToGroup ${LIMITS.apiMaxTargets / 2} × one group of ${SINKS}, exclude its ${SINKS} members (${LIMITS.apiMaxTargets / 2} entries)`, "sendToGroup",
      () => JSON.stringify({ group: times(LIMITS.apiMaxTargets / 2, () => world().groups[0]), data: "x", exclude: clientIdsTimes(LIMITS.apiMaxTargets / 2) }), 2, 1),
  ],
};

const apiMaxBatch: AttackClass = {
  name: "api-max-batch", server: "uid",
  what: `batch of ${LIMITS.apiMaxBatch} calls (the limit) of the costliest kinds, and one over`,
  inputs: [
    apiInput(`${SINK_CALLS} × sendToUid to online sinks (as many as the body holds), data filling it`, "batch",
      () => batchFilled(SINK_CALLS, (b, i) => stringOf(`{"method":"sendToUid","params":${apiPrefix(sink(i).uid)}`, "}}", b, "s")), 3, 2),
    apiInput(`${LIMITS.apiMaxBatch} × sendToAll "x" (each to every connection)`, "batch",
      () => batchOf(LIMITS.apiMaxBatch, () => ({ method: "sendToAll", params: { data: "x" } })), 2, 1),
    apiInput(`${LIMITS.apiMaxBatch} × setSession ~1 KiB`, "batch",
      () => batchFilled(LIMITS.apiMaxBatch, (b, i) => stringOf(`{"method":"setSession","params":{"clientId":"${sink(i).clientId}","session":{"blob":`, "}}}", b, "v")), 3, 2),
    apiInput(`${LIMITS.apiMaxBatch} × unknown method`, "batch", () => batchOf(LIMITS.apiMaxBatch, (i) => ({ method: `nope${i}` })), 3, 2),
    apiInput(`${LIMITS.apiMaxBatch + 1} calls (one over)`, "batch", () => batchOf(LIMITS.apiMaxBatch + 1, () => ({ method: "getAllUidCount" })), 2, 0),
    apiInput(`joinGroup ${LIMITS.maxGroups} groups × ${FAN_CONNS} connections of one uid, then ungroup each (${LIMITS.maxGroups * 2} calls)`, "batch",
      () => JSON.stringify({
        calls: [
          ...times(LIMITS.maxGroups, (g) => ({ method: "joinGroup", params: { uid: FAN_UID, group: padded(`fan-g${g}-`, 40) } })),
          ...times(LIMITS.maxGroups, (g) => ({ method: "ungroup", params: { group: padded(`fan-g${g}-`, 40) } })),
        ],
      }), 2, 0),
  ],
};

/** Sets a ~4 KiB session on every sink (for the list answers that include sessions). */
async function fullSessions(ctx: Ctx): Promise<void> {
  const session = { blob: "s".repeat(LIMITS.maxSessionBytes - 20) };
  // In batches that fit --api-max-body.
  const per = Math.max(1, Math.floor((BODY * 0.8) / (LIMITS.maxSessionBytes + 100)));
  for (let from = 0; from < SINKS; from += per) {
    const n = Math.min(per, SINKS - from);
    await ctx.apiOk("batch", { calls: times(n, (i) => ({ method: "setSession", params: { clientId: sink(from + i).clientId, session } })) });
  }
}

/** As many calls as a body holds, at most a batch. */
const callsThatFit = (call: (i: number) => unknown) => Math.min(LIMITS.apiMaxBatch, Math.floor((BODY - 20) / (JSON.stringify(call(0)).length + 1)));

const listBatch = (name: string, call: (i: number) => { method: string; params?: unknown }, before?: (ctx: Ctx) => Promise<void>): Input => ({
  name: `up to ${LIMITS.apiMaxBatch} (as many as the body holds) × ${name}`,
  async setup(ctx) {
    await before?.(ctx);
    return apiPhases(ctx, "batch", batchOf(callsThatFit(call), call), 2, 2);
  },
});

const apiBatchLists: AttackClass = {
  name: "api-batch-lists", server: "uid",
  what: `batch of ${LIMITS.apiMaxBatch} list queries with ${SINKS} 128-char uids online (answer size = calls × list size)`,
  inputs: [
    listBatch("getAllUidList", () => ({ method: "getAllUidList" })),
    listBatch(`getUidListByGroup (${SINKS} members)`, () => ({ method: "getUidListByGroup", params: { group: world().groups[0] } })),
    listBatch(`getClientIdListByGroup (${SINKS} members)`, () => ({ method: "getClientIdListByGroup", params: { group: world().groups[0] } })),
    listBatch(`getClientIdByUid (${FAN_CONNS} connections)`, () => ({ method: "getClientIdByUid", params: { uid: FAN_UID } })),
    listBatch("getAllGroupIdList", () => ({ method: "getAllGroupIdList" })),
    listBatch(`getSession (${LIMITS.maxSessionBytes} B sessions)`, (i) => ({ method: "getSession", params: { clientId: sink(i).clientId } }), fullSessions),
  ],
};

/** A session object text of ~`bytes` with keys k0, k1, …; value(i) is each key's JSON value text. */
function sessionText(bytes: number, value: (i: number) => string): string {
  return wide("", "", bytes, (i) => `"k${i}":${value(i)}`, "{", "}");
}

const apiSession: AttackClass = {
  name: "api-session", server: "uid",
  what: `sessions at --max-session-bytes (${LIMITS.maxSessionBytes}), ${LIMITS.apiMaxBatch} merges in a batch, ${BODY_LABEL} sessions and patches`,
  inputs: [
    apiInput(`batch of setSession at ${LIMITS.maxSessionBytes} B (as many as fit ${BODY_LABEL})`, "batch",
      () => batchOf(Math.floor(BODY / (LIMITS.maxSessionBytes + 100)), (i) => ({ method: "setSession", params: { clientId: sink(i).clientId, session: { blob: "s".repeat(LIMITS.maxSessionBytes - 20) } } })), 3, 2),
    {
      name: `batch of ${LIMITS.apiMaxBatch} updateSession merges of ~1 KiB into a ~4 KiB session (~400 keys)`,
      async setup(ctx) {
        const id = sink(1).clientId;
        await ctx.apiOk("setSession", `{"clientId":"${id}","session":${sessionText(LIMITS.maxSessionBytes - 200, () => "1")}}`);
        const prefix = `{"method":"updateSession","params":{"clientId":"${id}","session":`;
        const body = batchFilled(LIMITS.apiMaxBatch, (b) => prefix + sessionText(b - prefix.length - 2, () => "2") + "}}");
        return apiPhases(ctx, "batch", fits(body), 3, 2);
      },
    },
    apiInput(`updateSession with a ${BODY_LABEL} patch of small keys`, "updateSession",
      () => `{"clientId":"${sink(2).clientId}","session":${sessionText(BODY - 60, () => "0")}}`, 3, 2),
    apiInput(`updateSession with a ${BODY_LABEL} patch of nulls`, "updateSession",
      () => `{"clientId":"${sink(3).clientId}","session":${sessionText(BODY - 60, () => "null")}}`, 3, 2),
    apiInput(`setSession of a ${BODY_LABEL} session of small keys`, "setSession",
      () => `{"clientId":"${sink(4).clientId}","session":${sessionText(BODY - 60, () => "0")}}`, 3, 2),
    apiInput(`setSession at the depth limit, ${BODY_LABEL} wide`, "setSession",
      () => atDepthLimit(`{"clientId":"${sink(5).clientId}","session":{"a":`, "}}", BODY, AT_LIMIT - 1), 3, 2),
  ],
};

// ---- tokens (the --auth jwt server) ----------------------------------------------------------

export const JWT_SECRET = "adversarial-bench-secret-0123456789abcdef";
const TOKEN = LIMITS.maxTokenLength;
const tokenGroups = times(LIMITS.maxGroups, (g) => padded(`tg${g}-`, 19));
const sub = (base: string) => att(base);
/** A valid max-length token with the largest groups claim. */
const maxToken = (uid: string) => paddedToken(uid, tokenGroups, TOKEN, JWT_SECRET);
/** Flips the signature's first character (still canonical base64url). */
const badSig = (t: string) => { const k = t.lastIndexOf(".") + 1; return t.slice(0, k) + (t[k] === "A" ? "B" : "A") + t.slice(k + 1); };

/**
 * Upgrades with `?token=` (checked before the 101), each inside the measured window: seq one
 * after another, then conc at once. An accepted seed socket is logged in at open (its login
 * reply is the answer); an accepted pushgate.v1 one then sends `auth` without a token.
 */
function upgradeInput(name: string, path: () => string, v1: boolean, seq: number, conc: number): Input {
  return {
    name,
    async setup(ctx) {
      const paths = times(seq + conc, path);
      const attempt = async (p: string): Promise<string> => {
        let c: AttackWs;
        try {
          c = await ctx.ws({ v1, path: p });
        } catch (e) {
          return (e as { tag?: string }).tag ?? `error ${(e as Error).message.slice(0, 40)}`;
        }
        if (!v1) return c.answer((f) => (f.head.startsWith("login success") ? "101, login success" : `101, ${f.head.slice(0, 30)}`), 10_000);
        const answer = c.answer(authAnswer(false), 10_000);
        c.send('{"type":"auth"}');
        return `101, ${await answer}`;
      };
      const phase = (label: string, ps: string[], atOnce: boolean): Phase => ({
        label, sent: ps.length, atOnce,
        async run() {
          const answers = new Map<string, number>();
          const t0 = performance.now();
          const tags: string[] = [];
          if (atOnce) tags.push(...(await Promise.all(ps.map(attempt))));
          else for (const p of ps) tags.push(await attempt(p));
          for (const t of tags) answers.set(t, (answers.get(t) ?? 0) + 1);
          return { answers, maxAnswerMs: performance.now() - t0 };
        },
      });
      return [phase(`seq ×${seq}`, paths.slice(0, seq), false), ...(conc > 0 ? [phase(`conc ×${conc}`, paths.slice(seq), true)] : [])];
    },
  };
}

const tokens: AttackClass = {
  name: "tokens", server: "jwt",
  what: `--auth jwt: ${TOKEN}-character tokens (valid with ${LIMITS.maxGroups} groups, bad signature, padding, deep parts) on pushgate.v1 auth, ?token= and refresh`,
  inputs: [
    authInput(`v1 auth: valid ${TOKEN}-char token, ${LIMITS.maxGroups} groups`, {
      frame: () => JSON.stringify({ type: "auth", token: maxToken(sub("tok")) }), seq: 10, conc: 5, classify: authAnswer(false),
    }),
    authInput(`v1 auth: ${TOKEN + 1}-char token`, {
      frame: () => JSON.stringify({ type: "auth", token: maxToken(sub("tok")) + "A" }), seq: 5, conc: 3, classify: authAnswer(false),
    }),
    authInput(`v1 auth: ${TOKEN}-char token, bad signature`, {
      frame: () => JSON.stringify({ type: "auth", token: badSig(maxToken(sub("tok"))) }), seq: 5, conc: 3, classify: authAnswer(false),
    }),
    authInput("v1 auth: '=' padding in the payload part", {
      frame: () => {
        const t = hs256(HS256_HEADER, JSON.stringify({ sub: sub("tok"), exp: Math.floor(Date.now() / 1000) + 3600, p: "ab" }), JWT_SECRET);
        const [h, p, s] = t.split(".");
        return JSON.stringify({ type: "auth", token: `${h}.${p}${"=".repeat((4 - (p!.length % 4)) % 4 || 2)}.${s}` });
      },
      seq: 5, conc: 3, classify: authAnswer(false),
    }),
    authInput("v1 auth: header part of ~3,000 nested arrays", {
      frame: () => JSON.stringify({ type: "auth", token: hs256(deepArrays(3000), JSON.stringify({ sub: "x", exp: 2e9 }), JWT_SECRET) }),
      seq: 5, conc: 3, classify: authAnswer(false),
    }),
    authInput("v1 auth: valid signature over a claim ~2,900 arrays deep", {
      frame: () => JSON.stringify({ type: "auth", token: hs256(HS256_HEADER, `{"sub":"${sub("tok")}","exp":${Math.floor(Date.now() / 1000) + 3600},"x":${deepArrays(2900)}}`, JWT_SECRET) }),
      seq: 5, conc: 3, classify: authAnswer(false),
    }),
    upgradeInput(`?token= on a seed upgrade: valid ${TOKEN}-char token, ${LIMITS.maxGroups} groups (logged in at open)`,
      () => `/?token=${maxToken(sub("url"))}`, false, 10, 5),
    upgradeInput(`?token= on a pushgate.v1 upgrade: valid ${TOKEN}-char token, then auth without a token`,
      () => `/?token=${maxToken(sub("url"))}`, true, 10, 5),
    upgradeInput(`?token= on the upgrade: ${TOKEN}-char token, bad signature`, () => `/?token=${badSig(maxToken(sub("url")))}`, true, 5, 3),
    upgradeInput("?token= on the upgrade: a 60 KB token", () => `/?token=${"A".repeat(60_000)}`, true, 5, 3),
    {
      name: `refresh: 50 × valid ${TOKEN}-char tokens on one connection`,
      async setup(ctx) {
        const uid = sub("ref");
        const { conn } = await ctx.v1({ token: maxToken(uid) });
        const frames = times(50, () => clientFrame(JSON.stringify({ type: "refresh", id: 1, token: maxToken(uid) })));
        return [seqFrames("seq ×25", [conn], frames.slice(0, 25), v1Answer), burstFrames("burst 1×25", [conn], [frames.slice(25)], v1Answer)];
      },
    },
  ],
};

const wsV1RecoverGroups: AttackClass = {
  name: "ws-v1-recover-groups", server: "jwt",
  what: `--auth jwt: auth with a ${LIMITS.maxGroups}-group token recovering every stream (${LIMITS.maxGroups + 2} histories of 100 × 1,200 chars: one frame replays ~25,800 messages)`,
  inputs: [{
    name: `auth recovering ${LIMITS.maxGroups + 2} full histories (~33 MB)`,
    async setup(ctx) {
      const uid = sub("rg");
      const token = maxToken(uid);
      const { conn, welcome } = await ctx.v1({ token });
      conn.close();
      const streams = [...welcome.matchAll(/\{"stream":"([^"]+)","epoch":"([^"]*)","offset":\d+\}/g)].map((m) => [m[1]!, { epoch: m[2]!, offset: 0 }] as const);
      // As large as lets all 258 × 100 fit in --history-max-bytes (64 MiB, 2 bytes a character + 48 an entry).
      const data = "h".repeat(1200);
      // 100 pushes to each stream; 3 sendToGroup calls of 256 groups a request (768 targets).
      for (let k = 0; k < 100; k += 3) {
        const n = Math.min(3, 100 - k);
        await ctx.apiOk("batch", { calls: times(n, () => ({ method: "sendToGroup", params: { group: tokenGroups, data } })) });
      }
      await ctx.apiOk("batch", { calls: times(100, () => ({ method: "sendToUid", params: { uid, data } })) });
      await ctx.apiOk("batch", { calls: times(100, () => ({ method: "sendToAll", params: { data: "a" } })) });
      const frame = JSON.stringify({ type: "auth", token, recover: Object.fromEntries(streams) });
      return authInput("", { frame: () => frame, seq: 2, conc: 2, classify: authAnswer(true) }).setup(ctx);
    },
  }],
};

/** In run order: the uid server's classes, then the jwt server's. */
export const CLASSES: readonly AttackClass[] = [
  wsV1Deep, wsV1Wide, wsV1Recover, wsV1Burst, wsSeedMax,
  apiDeep, apiWide, apiMaxUids, apiMaxGroups, apiExclude, apiMaxBatch, apiBatchLists, apiSession,
  tokens, wsV1RecoverGroups,
];
