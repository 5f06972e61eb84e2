import { expect, test } from "bun:test";
import { ConnIndex } from "../../src/core/conn-index.ts";
import type { Conn } from "../../src/core/conn-data.ts";

const conn = (id: string) => ({ data: { clientId: id } }) as unknown as Conn;

test("one connection is stored alone, a second makes a set, removal shrinks back", () => {
  const idx = new ConnIndex();
  const a = conn("a"), b = conn("b"), c = conn("c");
  idx.add("u", a);
  idx.add("u", a); // idempotent
  expect(idx.count("u")).toBe(1);
  expect(idx.conns("u")).toEqual([a]);
  idx.add("u", b);
  idx.add("u", c);
  expect(idx.count("u")).toBe(3);
  idx.delete("u", b);
  expect(idx.conns("u")).toEqual([a, c]);
  idx.delete("u", a);
  expect(idx.conns("u")).toEqual([c]);
  idx.delete("u", a); // not a member: no change
  expect(idx.count("u")).toBe(1);
  idx.delete("u", c);
  expect(idx.has("u")).toBe(false);
  expect(idx.size).toBe(0);
  expect(idx.conns("u")).toEqual([]);
});

test("keys and size across several keys", () => {
  const idx = new ConnIndex();
  idx.add("x", conn("1"));
  idx.add("y", conn("2"));
  idx.add("y", conn("3"));
  expect([...idx.keys()].sort()).toEqual(["x", "y"]);
  expect(idx.size).toBe(2);
});
