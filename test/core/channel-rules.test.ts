// --channel-rules: first match wins; `*` is any run of characters, matched in linear time (a
// pattern of many stars against a name that almost matches used to backtrack for minutes).
import { expect, test } from "bun:test";
import { parseChannelRules, wildcardMatch } from "../../src/core/channel-rules.ts";

test("wildcards", () => {
  const cases: Array<[string, string, boolean]> = [
    ["room-*", "room-1", true], ["room-*", "room-", true], ["room-*", "roo", false], ["*", "", true], ["*", "x", true],
    ["a*b*c", "axxbyyc", true], ["a*b*c", "axxbyy", false], ["exact", "exact", true], ["exact", "exac", false],
    ["a**b", "ab", true], ["*a", "bbba", true], ["*a", "bbbab", false], ["x.y", "xzy", false], ["(*)", "(a)", true],
  ];
  for (const [p, n, want] of cases) expect([p, n, wildcardMatch(p, n)]).toEqual([p, n, want]);
  // Adversarial: finishes (a regex of `.*`s took 6 s for the second and did not finish for the first).
  expect(wildcardMatch(`${"*a".repeat(20)}b`, "a".repeat(40))).toBe(false);
  expect(wildcardMatch("*-*-*-*-*-*-end", "-".repeat(120))).toBe(false);
});

test("first match wins; presence-only rules; field checks", () => {
  const r = parseChannelRules(JSON.stringify({ channels: [
    { match: "vip-*", subscribe: "token" }, { match: "*", subscribe: "public", presence: true, joinLeave: false }, { match: "staff", presence: true },
  ] }));
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.value.match("vip-1")?.subscribe).toBe("token");
  expect(r.value.match("staff")).toMatchObject({ subscribe: "public", presence: true, joinLeave: false }); // "*" came first
  expect(r.value.needsTokens).toBe(true);
  const bad = parseChannelRules(JSON.stringify({ channels: [{ match: "a" }] }));
  expect(bad.ok ? "" : bad.message).toContain('needs "subscribe" or "presence": true');
});
