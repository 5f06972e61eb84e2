// The SDK's pure parts (no sockets): backoff, refresh timing, the duplicate guard, the close
// policy, and the browser bundle that the server serves at /client.js.
import { describe, expect, test } from "bun:test";
import { Backoff } from "../../src/client/backoff.ts";
import { closeDecision, reasonCode } from "../../src/client/close-policy.ts";
import { Positions } from "../../src/client/positions.ts";
import { MAX_TIMER_MS, refreshDelay } from "../../src/client/refresh.ts";
import { PushgateClient } from "../../src/client/index.ts";

describe("Backoff (full jitter)", () => {
  test("delay is random(0, min(max, min * 2^attempt))", () => {
    const top = new Backoff({ minDelayMs: 100, maxDelayMs: 1000 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const bottom = new Backoff({ minDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    expect([1, 2, 3].map(() => bottom.next())).toEqual([0, 0, 0]);
  });

  test("defaults 250 ms .. 10 s, unlimited attempts, reset after a welcome", () => {
    const b = new Backoff({}, () => 0.999999);
    expect(b.next()).toBe(250);
    for (let i = 0; i < 100; i++) expect(b.next()!).toBeLessThanOrEqual(10_000);
    expect(b.next()).toBe(10_000);
    b.reset();
    expect(b.next()).toBe(250);
  });

  test("maxAttempts bounds consecutive attempts, immediate ones included", () => {
    const b = new Backoff({ maxAttempts: 2 });
    expect(b.immediate()).toBe(0);
    expect(b.next()).not.toBeNull();
    expect(b.next()).toBeNull();
    expect(b.immediate()).toBeNull();
  });

  test("real jitter stays within bounds", () => {
    const b = new Backoff({ minDelayMs: 10, maxDelayMs: 80 });
    for (let i = 0; i < 200; i++) {
      const ceiling = b.ceiling();
      const d = b.next()!;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe("refreshDelay", () => {
  const now = 1_700_000_000_000;
  test("refreshBeforeMs ahead of exp for a long-lived token, but no later than half its life", () => {
    expect(refreshDelay(now / 1000 + 3600, now, 30_000)).toBe(1_800_000); // half of an hour
    expect(refreshDelay(now / 1000 + 50, now, 30_000)).toBe(20_000); // exp - 30 s
    expect(refreshDelay(now / 1000 + 3, now, 1500)).toBe(1500);
    expect(refreshDelay(now / 1000 + 2, now, 1500)).toBe(500);
  });

  test("an expired token refreshes at once; long waits are longer than one timer", () => {
    expect(refreshDelay(now / 1000 - 5, now, 30_000)).toBe(0);
    expect(refreshDelay(now / 1000 + 10 * 86_400 * 365, now, 30_000)).toBeGreaterThan(MAX_TIMER_MS);
  });
});

describe("Positions", () => {
  test("drops offsets at or below the known one in the same epoch; adopts a new epoch", () => {
    const p = new Positions();
    expect(p.accept("uid:1", "e1", 1)).toBe(true);
    expect(p.accept("uid:1", "e1", 2)).toBe(true);
    expect(p.accept("uid:1", "e1", 2)).toBe(false);
    expect(p.accept("uid:1", "e1", 1)).toBe(false);
    expect(p.accept("uid:1", "e2", 1)).toBe(true);
    expect(p.snapshot()).toEqual({ "uid:1": { epoch: "e2", offset: 1 } });
  });

  test("welcome positions unknown streams and new epochs but keeps a known position to replay from", () => {
    const p = new Positions({ "uid:1": { epoch: "e1", offset: 3 }, all: { epoch: "a1", offset: 9 } });
    p.welcome([
      { stream: "uid:1", epoch: "e1", offset: 5 },
      { stream: "all", epoch: "a2", offset: 0 },
      { stream: "group:g", epoch: "g1", offset: 7 },
    ]);
    expect(p.snapshot()).toEqual({
      "uid:1": { epoch: "e1", offset: 3 },
      all: { epoch: "a2", offset: 0 },
      "group:g": { epoch: "g1", offset: 7 },
    });
    expect(p.accept("uid:1", "e1", 4)).toBe(true); // the replay
  });

  test("recovery sets where each stream stands; snapshots are copies", () => {
    const p = new Positions({ "uid:1": { epoch: "e1", offset: 3 } });
    const before = p.snapshot();
    p.recovery([{ stream: "uid:1", recovered: false, replayed: 0, reason: "epoch", epoch: "e9", offset: 0 }]);
    expect(before).toEqual({ "uid:1": { epoch: "e1", offset: 3 } });
    expect(p.snapshot()).toEqual({ "uid:1": { epoch: "e9", offset: 0 } });
  });
});

describe("close policy", () => {
  test("4001 now; refused credentials fatal unless a token callback; the rest after the backoff", () => {
    expect(closeDecision(4001, "E_TOKEN_EXPIRED: token expired", false)).toBe("now");
    expect(closeDecision(1008, "E_AUTH_FAILED: bad signature", false)).toBe("fatal");
    expect(closeDecision(1008, "E_AUTH_FAILED: bad signature", true)).toBe("backoff");
    expect(closeDecision(1008, "E_TOKEN_EXPIRED: token expired", false)).toBe("fatal");
    expect(closeDecision(1008, "E_LOGIN_TIMEOUT: no login within 10 ms", false)).toBe("backoff");
    expect(closeDecision(1001, "server shutting down", false)).toBe("backoff");
    expect(closeDecision(1000, "closed by server", false)).toBe("backoff");
    expect(closeDecision(1006, "", false)).toBe("backoff");
    expect(reasonCode("E_AUTH_FAILED: x")).toBe("E_AUTH_FAILED");
    expect(reasonCode("closed by server")).toBeNull();
  });
});

describe("PushgateClient options", () => {
  test("url and a credential are required; no socket before connect()", () => {
    expect(() => new PushgateClient({ url: "ws://127.0.0.1:1/" })).toThrow(TypeError);
    const c = new PushgateClient({ url: "ws://127.0.0.1:1/", uid: "a" });
    expect(c.state).toBe("idle");
    expect(c.positions()).toEqual({});
  });

  test("send() before connect() rejects with E_DISCONNECTED", async () => {
    const c = new PushgateClient({ url: "ws://127.0.0.1:1/", uid: "a" });
    await expect(c.send("uid:b", 1)).rejects.toMatchObject({ code: "E_DISCONNECTED" });
  });

  test("connect() gives up after maxAttempts against a closed port", async () => {
    const c = new PushgateClient({ url: "ws://127.0.0.1:1/", uid: "a", reconnect: { minDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 } });
    const closes: boolean[] = [];
    c.on("disconnected", (d) => closes.push(d.willReconnect));
    c.on("error", () => {});
    await expect(c.connect()).rejects.toMatchObject({ code: "E_GAVE_UP" });
    expect(closes).toEqual([]); // failed attempts are not lost connections
    expect(c.state).toBe("closed");
  });
});

describe("browser bundle", () => {
  test("src/client/index.ts bundles into one self-contained ESM file", async () => {
    const out = await Bun.build({ entrypoints: [`${import.meta.dir}/../../src/client/index.ts`], target: "browser", format: "esm", minify: true });
    expect(out.success).toBe(true);
    expect(out.outputs.length).toBe(1);
    const text = await out.outputs[0]!.text();
    expect(text).toContain("pushgate.v1");
    expect(text).not.toMatch(/\bimport\s*[{*"']|\brequire\(|node:|Bun\./);
    expect(text.length).toBeLessThan(20_000);
  });
});
