// IdempotencyCache on its own clock: the window, the key cap, and the sweep that runs on a timer.
import { expect, test } from "bun:test";
import { IdempotencyCache } from "../../src/api/idempotency.ts";

test("sweep forgets expired keys even when no new key comes (idle memory comes back)", () => {
  let now = 0;
  const c = new IdempotencyCache(1000, 10, () => now);
  for (let i = 0; i < 5; i++) c.set(`k${i}`, "sendToUid", i);
  now = 500;
  c.set("late", "sendToUid", "x");
  expect(c.size).toBe(6);
  now = 1200; // the first five are past the window, "late" is not
  c.sweep();
  expect(c.size).toBe(1);
  expect(c.get("late")?.result).toBe("x");
  now = 1600;
  c.sweep();
  expect(c.size).toBe(0);
});

test("set keeps at most maxKeys, forgetting the oldest", () => {
  const c = new IdempotencyCache(60_000, 3, () => 0);
  for (const k of ["a", "b", "c", "d"]) c.set(k, "sendToAll", k);
  expect(c.size).toBe(3);
  expect(c.get("a")).toBeUndefined();
  expect(c.get("d")?.result).toBe("d");
});
