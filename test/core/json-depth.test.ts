// exceedsJsonDepth against JSON.parse's own reading of the same text, and peekFrameId.
import { expect, test } from "bun:test";
import { exceedsJsonDepth } from "../../src/core/json-depth.ts";
import { peekFrameId } from "../../src/ws/v1-frames.ts";

/** Depth as a recursive walk of the parsed value counts it (the outermost container is 1). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  const kids = Array.isArray(v) ? v : Object.values(v);
  let d = 0;
  for (const k of kids) d = Math.max(d, depthOf(k));
  return d + 1;
}

const nest = (n: number, inner = "0") => "[".repeat(n) + inner + "]".repeat(n);

test("the limit is exact: max levels pass, max + 1 do not", () => {
  for (const max of [1, 2, 5, 32]) {
    expect(exceedsJsonDepth(nest(max), max)).toBe(false);
    expect(exceedsJsonDepth(nest(max + 1), max)).toBe(true);
    expect(exceedsJsonDepth(`{"a":${nest(max - 1)}}`, max)).toBe(false);
    expect(exceedsJsonDepth(`{"a":${nest(max)}}`, max)).toBe(true);
  }
  expect(exceedsJsonDepth("42", 1)).toBe(false);
  expect(exceedsJsonDepth('"[[[[[[[["', 1)).toBe(false);
});

test("brackets inside strings, escaped quotes and backslash runs do not count", () => {
  const cases = [
    `{"s":"[[[[[[[[[[[[","t":[1]}`,
    `{"s":"a\\"[[[[[[[[[[[[","t":[[1]]}`,
    `{"s":"a\\\\","t":[[[[1]]]]}`,
    `{"s":"\\\\\\"[[[[[[[[","t":[]}`,
    `["\\u005b\\u005b", {"k\\"[": [[[]]]}]`,
    `[${'"\\\\",'.repeat(50)} [[[[[[]]]]]]]`,
  ];
  for (const text of cases) {
    const depth = depthOf(JSON.parse(text));
    expect(exceedsJsonDepth(text, depth)).toBe(false);
    expect(exceedsJsonDepth(text, depth - 1)).toBe(true);
  }
});

test("agrees with a walk of the parsed value on random documents", () => {
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const value = (d: number): unknown => {
    const k = rand(d > 6 ? 3 : 6);
    if (k === 0) return rand(1000);
    if (k === 1) return ["[", "]", "{", "}", '"', "\\", "\\\"[", "x"][rand(8)]!.repeat(rand(4));
    if (k === 2) return null;
    if (k === 3) return Array.from({ length: rand(4) }, () => value(d + 1));
    return Object.fromEntries(Array.from({ length: rand(4) }, (_, i) => [`k${i}${"[{\\\"".charAt(rand(4))}`, value(d + 1)]));
  };
  for (let i = 0; i < 500; i++) {
    const text = JSON.stringify(value(0));
    const depth = depthOf(JSON.parse(text));
    expect(exceedsJsonDepth(text, Math.max(depth, 1))).toBe(false);
    if (depth > 1) expect(exceedsJsonDepth(text, depth - 1)).toBe(true);
  }
});

test("an unterminated string or other broken text never throws", () => {
  for (const text of ['["abc', '"\\', "[[[[", "]]]]", "{\"a\":\"\\\\\\", '"']) {
    expect(typeof exceedsJsonDepth(text, 2)).toBe("boolean");
  }
});

test("peekFrameId reads the top-level id of an unparsed frame, not a nested one", () => {
  const deep = nest(40);
  expect(peekFrameId(`{"type":"send","id":7,"data":${deep}}`)).toBe(7);
  expect(peekFrameId(`{"type":"send","data":${deep},"id":"abc"}`)).toBe("abc");
  expect(peekFrameId(`{"data":{"id":5},"type":"send"}`)).toBeUndefined();
  expect(peekFrameId(`{"data":"\\"id\\":5","type":"send"}`)).toBeUndefined();
  expect(peekFrameId(`{ "id" : -1.5e3 , "data":${deep}}`)).toBe(-1500);
  expect(peekFrameId(`{"id":"a\\"b","data":${deep}}`)).toBe('a"b');
  // Not a valid id (too long, wrong type): none.
  expect(peekFrameId(`{"id":"${"x".repeat(65)}","data":${deep}}`)).toBeUndefined();
  expect(peekFrameId(`{"id":true,"data":${deep}}`)).toBeUndefined();
  // The last one wins, as in JSON.parse — also when it is not a valid id (then there is none).
  expect(peekFrameId(`{"id":1,"id":2,"data":${deep}}`)).toBe(2);
  expect(peekFrameId(`{"type":"ping","id":1,"id":${nest(40)}}`)).toBeUndefined();
  expect(peekFrameId(`{"id":1,"id":"${"x".repeat(65)}","data":${deep}}`)).toBeUndefined();
  expect(peekFrameId(`[{"id":1}]`)).toBeUndefined();
});
