// What one message through Redis costs at a given rate, without pushgate: one Bun process
// publishes to 1,000 channels at a fixed rate (flushed once per event-loop turn, as the engine
// does) and subscribes to them itself; Redis CPU (INFO) and this process's CPU per message.
// Modes: plain = one PUBLISH per message (pipelined); script = one EVALSHA per turn doing EXISTS +
// PUBLISH per message (the engine's path for an unobserved stream). Then the memory a subscribed
// channel costs in Bun's RedisClient (one channel per uid is how a node routes by uid).
//   bun bench/scenarios/redis-client-cost.ts            → table + bench/results/latest-redis-client.json
// Bounded: 5 s per row, 3 s drain; starts and stops its own redis-server.
import { RedisClient } from "bun";
import { startRedis, stopChild } from "../lib/redis.ts";

const STREAMS = 1000;
const SECONDS = 5;
const SCRIPT = `
local out = {}
for i = 1, #KEYS do
  redis.call('EXISTS', KEYS[i])
  out[i] = redis.call('PUBLISH', ARGV[2 * i - 1], ARGV[2 * i])
end
return out`;

async function redisCpuMs(c: RedisClient): Promise<number> {
  const t = (await c.send("INFO", ["cpu"])) as string;
  return (Number(/used_cpu_user:([\d.]+)/.exec(t)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(t)![1])) * 1000;
}

async function row(url: string, mode: "plain" | "script", rate: number): Promise<Record<string, number | string>> {
  const cmd = new RedisClient(url), sub = new RedisClient(url), info = new RedisClient(url);
  await Promise.all([cmd.connect(), sub.connect(), info.connect()]);
  let got = 0;
  const channels = Array.from({ length: STREAMS }, (_, i) => `c:u${i}`);
  for (let i = 0; i < STREAMS; i += 500) await sub.subscribe(channels.slice(i, i + 500), () => { got++; });
  const sha = (await cmd.send("SCRIPT", ["LOAD", SCRIPT])) as string;
  let queue: number[] = [];
  let turns = 0;
  const body = (s: number) => `1764590000000|0|abcdef01||0|u${s}:12345|67890|u${s}`;
  const flush = () => {
    const q = queue;
    queue = [];
    turns++;
    if (mode === "plain") {
      for (const s of q) void cmd.send("PUBLISH", [channels[s]!, body(s)]);
      return;
    }
    const keys: string[] = [];
    const args: string[] = [];
    for (const s of q) { keys.push(`v:u${s}`); args.push(channels[s]!, body(s)); }
    void cmd.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
  };
  const total = rate * SECONDS;
  const c0 = await redisCpuMs(info);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const iv = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        if (queue.length === 0) setImmediate(flush);
        queue.push(sent++ % STREAMS);
      }
      if (sent >= total) { clearInterval(iv); done(); }
    }, 1);
  });
  const drainUntil = performance.now() + 3000;
  while (got < total && performance.now() < drainUntil) await Bun.sleep(5);
  const u = process.cpuUsage(u0);
  const c1 = await redisCpuMs(info);
  for (const c of [cmd, sub, info]) c.close();
  return {
    mode, rate, sent, received: got, perTurn: +(sent / turns).toFixed(1),
    redisUsPerMsg: +(((c1 - c0) * 1000) / sent).toFixed(2),
    clientUsPerMsg: +((u.user + u.system) / sent).toFixed(2),
  };
}

/** RSS growth per channel subscribed with one shared listener (19,000 channels). */
async function subscriptionBytes(url: string): Promise<number> {
  const n = 19_000;
  const sub = new RedisClient(url);
  await sub.connect();
  const listener = () => {};
  const rss = async () => {
    Bun.gc(true);
    await Bun.sleep(100);
    return Number(/VmRSS:\s+(\d+)/.exec(await Bun.file("/proc/self/status").text())![1]) * 1024;
  };
  const before = await rss();
  const channels = Array.from({ length: n }, (_, i) => `pushgate:c:uid:s${i}`);
  for (let i = 0; i < n; i += 1000) await sub.subscribe(channels.slice(i, i + 1000), listener);
  const after = await rss();
  sub.close();
  return Math.round((after - before) / n);
}

const redis = await startRedis(process.cwd());
const rows: Record<string, number | string>[] = [];
let perChannel = 0;
try {
  // First, while this process's heap is fresh (later rows grow it and hide the cost).
  perChannel = await subscriptionBytes(redis.url);
  for (const rate of [2000, 10_000, 40_000]) for (const mode of ["plain", "script"] as const) rows.push(await row(redis.url, mode, rate));
} finally {
  await stopChild(redis.child);
}
console.log("mode    rate    perTurn  redisUsPerMsg  bunClientUsPerMsg (publish + receive)  received");
for (const r of rows) console.log(`${String(r.mode).padEnd(7)} ${String(r.rate).padStart(6)}  ${String(r.perTurn).padStart(7)}  ${String(r.redisUsPerMsg).padStart(13)}  ${String(r.clientUsPerMsg).padStart(17)}  ${r.received}/${r.sent}`);
console.log(`RSS per subscribed channel (Bun RedisClient, 19,000 channels): ${perChannel} B`);
await Bun.write("bench/results/latest-redis-client.json", JSON.stringify({ at: new Date().toISOString(), redis: redis.version, rows, rssPerSubscribedChannelBytes: perChannel }, null, 2) + "\n");
console.log("saved bench/results/latest-redis-client.json");
process.exit(0);
