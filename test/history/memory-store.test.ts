// MemoryHistoryStore as a unit, with an injected clock: offsets and epochs, recovery outcomes,
// size/TTL trimming, the global byte cap, the sweep and the stats.
import { describe, expect, test } from "bun:test";
import { MemoryHistoryStore, type MemoryStoreOptions } from "../../src/history/memory-store.ts";
import type { Payload, StreamPosition } from "../../src/history/types.ts";

/** A store whose clock only moves when the test says so. */
function makeStore(opts: Partial<MemoryStoreOptions> = {}) {
  const clock = { t: 1_000_000 };
  const store = new MemoryHistoryStore({
    size: 100, ttlMs: 60_000, maxBytes: 64 * 1024 * 1024, ...opts, now: () => clock.t,
  });
  return { store, clock };
}

const text = (t: string): Payload => ({ text: t, isJson: false });
const json = (v: unknown): Payload => ({ text: JSON.stringify(v), isJson: true });

/** Offsets of a since() outcome's entries. */
const offsets = (o: { entries: readonly { offset: number }[] }) => o.entries.map((e) => e.offset);

/** Bytes a store holds for `n` streams with (equal-length) `name`s and no entries. */
function emptyStreamBytes(name: string): number {
  const { store } = makeStore();
  store.position(name);
  return store.stats().bytes;
}

describe("offsets and epochs", () => {
  test("offsets go 1, 2, 3 within a stream, under one epoch, stamped with the store's clock", () => {
    const { store, clock } = makeStore();
    const a = store.append("uid:a", text("one"));
    clock.t += 10;
    const b = store.append("uid:a", json({ n: 2 }));
    clock.t += 10;
    const c = store.append("uid:a", text("three"));
    expect([a.offset, b.offset, c.offset]).toEqual([1, 2, 3]);
    expect(a.epoch).toBe(b.epoch);
    expect(b.epoch).toBe(c.epoch);
    expect([a.ts, b.ts, c.ts]).toEqual([1_000_000, 1_000_010, 1_000_020]);
    expect(store.position("uid:a")).toEqual({ epoch: a.epoch, offset: 3 });
  });

  test("streams count independently and have their own epochs", () => {
    const { store } = makeStore();
    store.append("uid:a", text("a1"));
    store.append("uid:a", text("a2"));
    const g = store.append("group:g", text("g1"));
    const all = store.append("all", text("x1"));
    store.append("uid:a", text("a3"));
    expect(g.offset).toBe(1);
    expect(all.offset).toBe(1);
    expect(store.position("uid:a").offset).toBe(3);
    expect(store.position("group:g").offset).toBe(1);
    expect(store.position("all").offset).toBe(1);
    expect(store.position("uid:a").epoch).not.toBe(g.epoch);
  });

  test("position() of an unknown stream creates it at offset 0 with a stable epoch", () => {
    const { store, clock } = makeStore();
    expect(store.stats().streams).toBe(0);
    const p1 = store.position("uid:new");
    expect(p1.offset).toBe(0);
    expect(typeof p1.epoch).toBe("string");
    expect(p1.epoch.length).toBeGreaterThan(0);
    expect(store.stats().streams).toBe(1);
    clock.t += 1000;
    expect(store.position("uid:new")).toEqual(p1);
    // The first message of the stream keeps that epoch.
    expect(store.append("uid:new", text("m"))).toMatchObject({ epoch: p1.epoch, offset: 1 });
    expect(store.stats().streams).toBe(1);
  });
});

describe("since()", () => {
  test("same epoch and offset: recovered with nothing to replay", () => {
    const { store } = makeStore();
    store.append("s", text("1"));
    store.append("s", text("2"));
    const pos = store.position("s");
    expect(store.since("s", pos)).toEqual({ recovered: true, entries: [], position: pos });
  });

  test("offset 0 of a stream that never had a message: recovered with nothing", () => {
    const { store } = makeStore();
    const pos = store.position("s");
    expect(store.since("s", { epoch: pos.epoch, offset: 0 })).toEqual({ recovered: true, entries: [], position: pos });
  });

  test("behind: exactly the missed entries, in order, with their payloads and timestamps", () => {
    const { store, clock } = makeStore();
    const epoch = store.position("s").epoch;
    const ts: number[] = [];
    for (let i = 1; i <= 5; i++) {
      ts.push(store.append("s", i % 2 ? text(`m${i}`) : json({ i })).ts);
      clock.t += 7;
    }
    const out = store.since("s", { epoch, offset: 2 });
    expect(out.recovered).toBe(true);
    expect(out.position).toEqual({ epoch, offset: 5 });
    expect(out.entries).toEqual([
      { offset: 3, ts: ts[2]!, text: "m3", isJson: false },
      { offset: 4, ts: ts[3]!, text: '{"i":4}', isJson: true },
      { offset: 5, ts: ts[4]!, text: "m5", isJson: false },
    ]);
    expect(offsets(store.since("s", { epoch, offset: 0 }))).toEqual([1, 2, 3, 4, 5]);
    expect(offsets(store.since("s", { epoch, offset: 4 }))).toEqual([5]);
  });

  test("size trim: a position older than the history is a gap, with the entries still held", () => {
    const { store } = makeStore({ size: 3 });
    for (let i = 1; i <= 5; i++) store.append("s", text(`m${i}`));
    const { epoch } = store.position("s");
    expect(store.stats().entries).toBe(3);

    const zero = store.since("s", { epoch, offset: 0 });
    expect(zero).toMatchObject({ recovered: false, reason: "gap", position: { epoch, offset: 5 } });
    expect(offsets(zero)).toEqual([3, 4, 5]);

    const one = store.since("s", { epoch, offset: 1 });
    expect(one).toMatchObject({ recovered: false, reason: "gap" });
    expect(offsets(one)).toEqual([3, 4, 5]);

    // offset 2: offset 3 onward is all still held, so nothing was lost.
    const two = store.since("s", { epoch, offset: 2 });
    expect(two.recovered).toBe(true);
    expect(offsets(two)).toEqual([3, 4, 5]);
  });

  test("TTL trim: expired entries are gone, so an older position is a gap", () => {
    const { store, clock } = makeStore({ ttlMs: 1000 });
    const { epoch } = store.position("s");
    store.append("s", text("old")); // t0
    clock.t += 600;
    store.append("s", text("newer")); // t0 + 600

    clock.t += 300; // t0 + 900: both still within the TTL
    expect(store.since("s", { epoch, offset: 0 })).toMatchObject({ recovered: true });

    clock.t += 300; // t0 + 1200: the first one expired
    const mid = store.since("s", { epoch, offset: 0 });
    expect(mid).toMatchObject({ recovered: false, reason: "gap", position: { epoch, offset: 2 } });
    expect(mid.entries.map((e) => e.text)).toEqual(["newer"]);
    // A client that had the expired one lost nothing.
    expect(store.since("s", { epoch, offset: 1 })).toMatchObject({ recovered: true });
    expect(offsets(store.since("s", { epoch, offset: 1 }))).toEqual([2]);

    clock.t += 1000; // everything expired; offsets and epoch survive
    const late = store.since("s", { epoch, offset: 1 });
    expect(late).toEqual({ recovered: false, reason: "gap", entries: [], position: { epoch, offset: 2 } });
    expect(store.since("s", { epoch, offset: 2 })).toMatchObject({ recovered: true, entries: [] });
    expect(store.append("s", text("next")).offset).toBe(3);
  });

  test("a wrong epoch is reason \"epoch\" with nothing replayed, even for a valid offset", () => {
    const { store } = makeStore();
    store.append("s", text("1"));
    store.append("s", text("2"));
    const pos = store.position("s");
    const wrong = pos.epoch === "00000000" ? "ffffffff" : "00000000";
    for (const offset of [0, 1, 2]) {
      expect(store.since("s", { epoch: wrong, offset })).toEqual({ recovered: false, reason: "epoch", entries: [], position: pos });
    }
  });

  test("an offset ahead of the stream is reason \"epoch\"", () => {
    const { store } = makeStore();
    store.append("s", text("1"));
    const pos = store.position("s");
    expect(store.since("s", { epoch: pos.epoch, offset: 2 })).toEqual({ recovered: false, reason: "epoch", entries: [], position: pos });
    expect(store.since("s", { epoch: pos.epoch, offset: 1_000_000 })).toMatchObject({ recovered: false, reason: "epoch" });
  });

  test("since() on an unknown stream creates it: any named epoch is reason \"epoch\"", () => {
    const { store } = makeStore();
    const out = store.since("uid:ghost", { epoch: "abcd1234", offset: 3 });
    expect(out).toMatchObject({ recovered: false, reason: "epoch", entries: [] });
    expect(out.position.offset).toBe(0);
    expect(store.position("uid:ghost")).toEqual(out.position);
  });
});

describe("history size 0", () => {
  test("append still advances offsets; nothing is kept; behind is a gap, current is recovered", () => {
    const { store } = makeStore({ size: 0 });
    const a = store.append("s", text("1"));
    const b = store.append("s", text("2"));
    const c = store.append("s", text("3"));
    expect([a.offset, b.offset, c.offset]).toEqual([1, 2, 3]);
    expect(a.epoch).toBe(c.epoch);
    expect(store.stats().entries).toBe(0);
    expect(store.stats().bytes).toBe(emptyStreamBytes("s"));
    const epoch = a.epoch;
    expect(store.since("s", { epoch, offset: 0 })).toEqual({ recovered: false, reason: "gap", entries: [], position: { epoch, offset: 3 } });
    expect(store.since("s", { epoch, offset: 2 })).toMatchObject({ recovered: false, reason: "gap", entries: [] });
    expect(store.since("s", { epoch, offset: 3 })).toMatchObject({ recovered: true, entries: [] });
    expect(store.since("s", { epoch, offset: 4 })).toMatchObject({ recovered: false, reason: "epoch" });
  });
});

describe("byte cap", () => {
  // Equal-length names so every stream costs the same overhead.
  const big = "x".repeat(100);

  test("evicts the least recently written stream (not the oldest created); its epoch changes", () => {
    const per = emptyStreamBytes("s:a");
    // Measure what one stream with one `big` entry costs.
    const probe = makeStore();
    probe.store.append("s:a", text(big));
    const withOne = probe.store.stats().bytes;
    const entry = withOne - per;
    expect(entry).toBeGreaterThan(0);

    // Room for three streams with one entry each, plus one more entry, but not two more.
    const { store } = makeStore({ maxBytes: 3 * withOne + entry + Math.floor(entry / 2) });
    const a1 = store.append("s:a", text(big));
    const b1 = store.append("s:b", text(big));
    const c1 = store.append("s:c", text(big));
    store.append("s:a", text(big)); // a is now the most recently written; b the least
    expect(store.stats()).toEqual({ streams: 3, entries: 4, bytes: 3 * withOne + entry });

    const c2 = store.append("s:c", text(big)); // over the cap: b goes
    expect(c2).toMatchObject({ epoch: c1.epoch, offset: 2 });
    expect(store.stats()).toEqual({ streams: 2, entries: 4, bytes: 2 * withOne + 2 * entry });

    // a and c keep their epoch and their history.
    expect(store.position("s:a")).toEqual({ epoch: a1.epoch, offset: 2 });
    expect(store.since("s:a", { epoch: a1.epoch, offset: 0 })).toMatchObject({ recovered: true });
    expect(offsets(store.since("s:c", { epoch: c1.epoch, offset: 0 }))).toEqual([1, 2]);

    // b starts over: a new epoch at offset 0, and its old position no longer matches.
    const b = store.position("s:b");
    expect(b.offset).toBe(0);
    expect(b.epoch).not.toBe(b1.epoch);
    expect(store.since("s:b", { epoch: b1.epoch, offset: 1 })).toMatchObject({ recovered: false, reason: "epoch", entries: [] });
    expect(store.stats().streams).toBe(3);
  });

  test("never evicts the stream just written, even when it alone is over the cap", () => {
    const { store } = makeStore({ maxBytes: emptyStreamBytes("s:a") * 2 });
    const other = store.append("s:o", text("small"));
    const a1 = store.append("s:a", text(big.repeat(10)));
    expect(store.stats().streams).toBe(1); // the other stream went, the written one stayed
    expect(store.position("s:o").epoch).not.toBe(other.epoch);
    const a2 = store.append("s:a", text(big.repeat(10)));
    expect(a2).toMatchObject({ epoch: a1.epoch, offset: 2 });
    const out = store.since("s:a", { epoch: a1.epoch, offset: 0 });
    expect(out.recovered).toBe(true);
    expect(offsets(out)).toEqual([1, 2]);
  });
});

describe("sweep()", () => {
  test("drops idle streams whose history expired, unless keep() says so", () => {
    const { store, clock } = makeStore({ ttlMs: 1000 });
    const idle = store.append("uid:idle", text("1"));
    const kept = store.append("uid:kept", text("1"));
    clock.t += 1500;
    const fresh = store.append("uid:fresh", text("1"));
    clock.t += 600; // idle/kept: written 2100 ms ago, entries expired; fresh: 600 ms ago
    const asked: string[] = [];
    store.sweep((s) => {
      asked.push(s);
      return s === "uid:kept";
    });
    expect(asked).not.toContain("uid:fresh");
    expect(store.stats()).toMatchObject({ streams: 2, entries: 1 });

    const k = store.position("uid:kept");
    expect(k).toEqual({ epoch: kept.epoch, offset: 1 }); // kept: position survives, entries gone
    expect(store.since("uid:kept", { epoch: kept.epoch, offset: 0 })).toMatchObject({ recovered: false, reason: "gap" });
    expect(store.position("uid:fresh")).toEqual({ epoch: fresh.epoch, offset: 1 });

    const i = store.position("uid:idle"); // recreated: new epoch, offset 0
    expect(i.offset).toBe(0);
    expect(i.epoch).not.toBe(idle.epoch);
  });

  test("keeps a stream that still holds entries, and an empty one created within the TTL", () => {
    const { store, clock } = makeStore({ ttlMs: 1000 });
    const held = store.append("uid:held", text("1"));
    clock.t += 900;
    const empty = store.position("uid:empty"); // created now, never written
    clock.t += 500; // held: written 1400 ms ago but its entry expired → goes; empty: 500 ms old
    store.sweep(() => false);
    expect(store.position("uid:empty")).toEqual(empty);
    expect(store.position("uid:held").epoch).not.toBe(held.epoch);

    const { store: s2, clock: c2 } = makeStore({ ttlMs: 1000 });
    const h = s2.append("uid:held", text("1"));
    c2.t += 999;
    s2.sweep(() => false);
    expect(s2.position("uid:held")).toEqual({ epoch: h.epoch, offset: 1 });
    expect(s2.stats().entries).toBe(1);
  });

  test("an empty stream is dropped once idle longer than the TTL", () => {
    const { store, clock } = makeStore({ ttlMs: 1000 });
    const p = store.position("uid:p");
    clock.t += 1001;
    store.sweep(() => false);
    expect(store.stats().streams).toBe(0);
    expect(store.stats().bytes).toBe(0);
    expect(store.position("uid:p").epoch).not.toBe(p.epoch);
  });
});

describe("stats()", () => {
  test("streams, entries and bytes stay consistent through appends, trims and expiry", () => {
    const { store, clock } = makeStore({ size: 2, ttlMs: 1000 });
    const per = emptyStreamBytes("s:a");
    expect(store.stats()).toEqual({ streams: 0, entries: 0, bytes: 0 });

    store.position("s:a");
    expect(store.stats()).toEqual({ streams: 1, entries: 0, bytes: per });

    store.append("s:a", text("x"));
    const one = store.stats();
    expect(one.entries).toBe(1);
    const entryX = one.bytes - per;
    expect(entryX).toBeGreaterThan(0);

    store.append("s:a", text("x"));
    expect(store.stats()).toEqual({ streams: 1, entries: 2, bytes: per + 2 * entryX });
    store.append("s:a", text("x")); // size 2: the first is trimmed
    expect(store.stats()).toEqual({ streams: 1, entries: 2, bytes: per + 2 * entryX });

    // Longer text costs more.
    store.append("s:b", text("x".repeat(50)));
    const s = store.stats();
    expect(s.streams).toBe(2);
    expect(s.entries).toBe(3);
    expect(s.bytes - (2 * per + 2 * entryX)).toBeGreaterThan(entryX);

    // Everything expires: entries go, bytes fall back to the streams' own overhead.
    clock.t += 5000;
    store.sweep(() => true);
    expect(store.stats()).toEqual({ streams: 2, entries: 0, bytes: 2 * per });

    // ...and to zero once the streams are swept too.
    store.sweep(() => false);
    expect(store.stats()).toEqual({ streams: 0, entries: 0, bytes: 0 });
  });

  test("a since() that trims expired entries updates the stats too", () => {
    const { store, clock } = makeStore({ ttlMs: 1000 });
    const per = emptyStreamBytes("s:a");
    const { epoch } = store.append("s:a", text("hello"));
    store.append("s:a", text("world"));
    clock.t += 2000;
    const from: StreamPosition = { epoch, offset: 0 };
    expect(store.since("s:a", from)).toMatchObject({ recovered: false, reason: "gap", entries: [] });
    expect(store.stats()).toEqual({ streams: 1, entries: 0, bytes: per });
  });
});

describe("unobserved streams (append with observed = false)", () => {
  test("a stream nobody observed keeps nothing and hands out no position", () => {
    const { store } = makeStore();
    const a = store.append("uid:seed", text("one"), false);
    const b = store.append("uid:seed", text("two"), false);
    expect(a).toMatchObject({ epoch: "", offset: 0 });
    expect(b).toMatchObject({ epoch: "", offset: 0 });
    expect(store.stats()).toEqual({ streams: 0, entries: 0, bytes: 0 });
  });

  test("once position() observed it, every push is kept, observed or not", () => {
    const { store } = makeStore();
    store.append("uid:u", text("before"), false);
    const p = store.position("uid:u");
    expect(p.offset).toBe(0);
    const a = store.append("uid:u", text("after-1"), false);
    const b = store.append("uid:u", text("after-2"), true);
    expect([a.epoch, a.offset, b.offset]).toEqual([p.epoch, 1, 2]);
    const out = store.since("uid:u", p);
    expect(out.recovered).toBe(true);
    expect(out.entries.map((e) => e.text)).toEqual(["after-1", "after-2"]);
  });

  test("an observed append creates the stream and keeps the message", () => {
    const { store } = makeStore();
    store.append("uid:x", text("seed-only"), false);
    const a = store.append("uid:x", text("json-reader"), true);
    expect(a.offset).toBe(1);
    expect(a.epoch).not.toBe("");
    expect(store.stats()).toMatchObject({ streams: 1, entries: 1 });
    expect(store.since("uid:x", { epoch: a.epoch, offset: 0 }).entries.map((e) => e.text)).toEqual(["json-reader"]);
  });
});

describe("ring storage", () => {
  test("wraps around its capacity many times and still replays the newest `size` in order", () => {
    const { store } = makeStore({ size: 7 });
    const p = store.position("s");
    for (let i = 1; i <= 50; i++) store.append("s", i % 3 ? text(`m${i}`) : json({ i }));
    const out = store.since("s", p);
    expect(out.recovered).toBe(false); // 1..43 were trimmed: a gap
    expect(offsets(out)).toEqual([44, 45, 46, 47, 48, 49, 50]);
    expect(out.entries.map((e) => e.isJson)).toEqual([false, true, false, false, true, false, false]);
    expect(out.entries[1]!.text).toBe(JSON.stringify({ i: 45 }));
    expect(offsets(store.since("s", { epoch: p.epoch, offset: 47 }))).toEqual([48, 49, 50]);
    expect(store.stats().entries).toBe(7);
  });
});
