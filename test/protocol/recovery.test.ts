// History and recovery over pushgate.v1: replay what was missed, in order, with no gap and no
// duplicate across the switch to live; say so when recovery is not complete.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, startTestServer } from "../helpers.ts";
import { JsonClient, type JsonFrame } from "../json-client.ts";

async function login(pg: { port: number }, uid: string, recover?: Record<string, { epoch: string; offset: number }>) {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", uid, ...(recover ? { recover } : {}) });
  return { c, welcome: await c.next("welcome") };
}

function positionOf(welcome: JsonFrame, stream: string): { epoch: string; offset: number } {
  const s = welcome.streams.find((x: any) => x.stream === stream);
  return { epoch: s.epoch, offset: s.offset };
}

const pg = startTestServer({ historySize: 50 });
afterAll(() => pg.shutdown());

describe("recovery", () => {
  test("missed messages are replayed in order, then live ones follow", async () => {
    const first = await login(pg, "r1");
    const pos = positionOf(first.welcome, "uid:r1");
    first.c.close();
    await first.c.closed;
    for (let i = 1; i <= 3; i++) await api(pg, "sendToUid", { uid: "r1", data: { i } });
    const { c, welcome } = await login(pg, "r1", { "uid:r1": pos });
    using _ = c;
    expect(positionOf(welcome, "uid:r1")).toEqual({ epoch: pos.epoch, offset: pos.offset + 3 });
    for (let i = 1; i <= 3; i++) {
      expect(await c.next("push")).toMatchObject({ stream: "uid:r1", epoch: pos.epoch, offset: pos.offset + i, data: { i } });
    }
    expect(await c.next("recovery")).toEqual({
      type: "recovery", complete: true,
      streams: [{ stream: "uid:r1", recovered: true, replayed: 3, epoch: pos.epoch, offset: pos.offset + 3 }],
    });
    await api(pg, "sendToUid", { uid: "r1", data: "live" });
    expect(await c.next("push")).toMatchObject({ offset: pos.offset + 4, data: "live" });
  });

  test("nothing missed: recovered with nothing replayed", async () => {
    const first = await login(pg, "r2");
    const pos = positionOf(first.welcome, "uid:r2");
    first.c.close();
    const { c } = await login(pg, "r2", { "uid:r2": pos, all: positionOf(first.welcome, "all") });
    using _ = c;
    const rec = await c.next("recovery");
    expect(rec.complete).toBe(true);
    expect(rec.streams.map((s: any) => [s.stream, s.recovered, s.replayed])).toEqual([["uid:r2", true, 0], ["all", true, 0]]);
  });

  test("beyond the window: what is left is replayed and recovery says gap", async () => {
    await using small = startTestServer({ historySize: 3 });
    const first = await login(small, "g");
    const pos = positionOf(first.welcome, "uid:g");
    first.c.close();
    for (let i = 1; i <= 5; i++) await api(small, "sendToUid", { uid: "g", data: i });
    const { c } = await login(small, "g", { "uid:g": pos });
    using _ = c;
    for (const i of [3, 4, 5]) expect((await c.next("push")).data).toBe(i);
    expect(await c.next("recovery")).toMatchObject({
      complete: false, streams: [{ stream: "uid:g", recovered: false, reason: "gap", replayed: 3 }],
    });
  });

  test("expired by TTL: not recovered (gap, or epoch once the idle stream was swept)", async () => {
    await using ttl = startTestServer({ historyTtlMs: 1000 });
    const first = await login(ttl, "t");
    const pos = positionOf(first.welcome, "uid:t");
    first.c.close();
    await api(ttl, "sendToUid", { uid: "t", data: "old" });
    await Bun.sleep(1300);
    const { c } = await login(ttl, "t", { "uid:t": pos });
    using _ = c;
    const rec = await c.next("recovery");
    expect(rec).toMatchObject({ complete: false, streams: [{ recovered: false, replayed: 0 }] });
    expect(["gap", "epoch"]).toContain(rec.streams[0].reason);
  });

  test("another epoch (history lost, e.g. restart): nothing replayed, reason epoch", async () => {
    const { c } = await login(pg, "e", { "uid:e": { epoch: "deadbeef", offset: 7 } });
    using _ = c;
    expect(await c.next("recovery")).toMatchObject({
      complete: false, streams: [{ stream: "uid:e", recovered: false, reason: "epoch", replayed: 0 }],
    });
  });

  test("random disconnects while N numbered messages are published: exactly 1..N, in order", async () => {
    const N = 1000;
    const uid = "soak";
    let pos: { epoch: string; offset: number } | null = null;
    const got: number[] = [];
    let disconnects = 0;
    let replayed = 0;
    let duplicates = 0;
    let incomplete = 0;
    let done = false;

    const take = (f: JsonFrame) => {
      if (pos && f.offset <= pos.offset) { duplicates++; return; }
      pos = { epoch: f.epoch, offset: f.offset };
      got.push(f.data as number);
    };
    const consumer = (async () => {
      while (!done || got.length < N) {
        const { c, welcome } = await login(pg, uid, pos ? { [`uid:${uid}`]: pos } : undefined);
        pos ??= positionOf(welcome, `uid:${uid}`);
        if (got.length > 0 || disconnects > 0) {
          for (;;) {
            const f = await c.next(undefined, 5000);
            if (f.type === "recovery") {
              replayed += f.streams[0].replayed;
              if (!f.complete) incomplete++;
              break;
            }
            take(f);
          }
        }
        const until = performance.now() + 5 + Math.random() * 40;
        while (performance.now() < until && got.length < N) {
          try { take(await c.next("push", Math.max(1, until - performance.now()))); } catch { break; }
        }
        if (got.length >= N) { c.close(); break; }
        // Drop abruptly half the time (server-side close), else close cleanly from the client.
        if (Math.random() < 0.5) await api(pg, "closeClient", { clientId: welcome.clientId });
        else c.close();
        await c.closed;
        disconnects++;
      }
    })();
    // Wait for the first login so the stream exists before publishing.
    while (pos === null) await Bun.sleep(1);
    for (let i = 1; i <= N; i += 5) {
      const calls = [0, 1, 2, 3, 4].map((k) => ({ method: "sendToUid", params: { uid, data: i + k } }));
      expect((await api(pg, "batch", { calls })).status).toBe(200);
      await Bun.sleep(3); // spread publishing over ~1 s so disconnects land in the middle of it
    }
    done = true;
    await Promise.race([consumer, Bun.sleep(20_000)]);
    const lost = N - new Set(got).size;
    console.log(`recovery soak: messages=${N} disconnects=${disconnects} replayed=${replayed} duplicates=${duplicates} incomplete=${incomplete} lost=${lost}`);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(disconnects).toBeGreaterThan(5);
    expect(replayed).toBeGreaterThan(0);
    expect(incomplete).toBe(0);
    expect(duplicates).toBe(0);
  }, 30_000);
});

describe("what history keeps", () => {
  test("seed-only traffic keeps nothing; once a pushgate.v1 client saw the stream, pushes while it is away are kept", async () => {
    await using srv = startTestServer({ allowClientSend: true });
    const history = () => srv.hub.history.stats();
    using sender = await TestClient.login(srv, "sender");
    using seedReader = await TestClient.login(srv, "plain");
    for (let i = 0; i < 5; i++) sender.send(`plain:m${i}`);
    for (let i = 0; i < 5; i++) expect(await seedReader.next()).toBe(`m${i}`);
    // Nobody holds a position in uid:plain (seed clients get none), so nothing is retained.
    expect(history().entries).toBe(0);

    const first = await login(srv, "mixed");
    const pos = positionOf(first.welcome, "uid:mixed");
    first.c.close();
    await first.c.closed;
    sender.send("mixed:while away 1");
    sender.send("mixed:while away 2");
    await Bun.sleep(50);
    expect(history().entries).toBe(2);
    const { c } = await login(srv, "mixed", { "uid:mixed": pos });
    using _ = c;
    expect((await c.next("push")).data).toBe("while away 1");
    expect((await c.next("push")).data).toBe("while away 2");
    expect(await c.next("recovery")).toMatchObject({ complete: true, streams: [{ stream: "uid:mixed", recovered: true, replayed: 2 }] });
  });

  test("a stream first seen through a push (bindUid after login) is kept from that push on", async () => {
    await using srv = startTestServer({ historySize: 50 });
    const { c: a, welcome } = await login(srv, "orig");
    // uid:rebound has no stream yet: its first push creates it because a pushgate.v1 reader gets it.
    await api(srv, "bindUid", { clientId: welcome.clientId, uid: "rebound" });
    await api(srv, "sendToUid", { uid: "rebound", data: "first" });
    const p = await a.next("push");
    expect(p).toMatchObject({ stream: "uid:rebound", offset: 1 });
    expect(p.epoch).not.toBe("");
    a.close();
    await a.closed;
    await api(srv, "sendToUid", { uid: "rebound", data: "away" });
    const { c } = await login(srv, "rebound", { "uid:rebound": { epoch: p.epoch, offset: p.offset } });
    using _ = c;
    expect(await c.next("push")).toMatchObject({ data: "away", offset: 2 });
    expect(await c.next("recovery")).toMatchObject({ complete: true, streams: [{ stream: "uid:rebound", recovered: true, replayed: 1 }] });
  });
});
