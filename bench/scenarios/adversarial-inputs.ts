// Builders for the adversarial scenario's inputs: JSON texts that are as deep, as wide or as
// escape-heavy as a byte budget allows, and HS256 tokens of any shape. Pure functions on strings.
import { defaultConfig } from "../../src/config/parse.ts";

/**
 * The limits the inputs are sized to: this tree's defaults (the server under test runs with its
 * own defaults, so a run against an older checkout sends it the same inputs).
 */
const DEFAULTS = defaultConfig();
export const LIMITS = {
  maxPayload: DEFAULTS.maxPayload,
  apiMaxBody: DEFAULTS.apiMaxBody,
  apiMaxBatch: DEFAULTS.apiMaxBatch,
  apiMaxTargets: DEFAULTS.apiMaxTargets,
  /** List entries a request's answers may hold (newer code; the list inputs run into it). */
  apiMaxList: DEFAULTS.apiMaxList,
  maxSessionBytes: DEFAULTS.maxSessionBytes,
  maxJsonDepth: DEFAULTS.maxJsonDepth,
  rateBurst: DEFAULTS.rateBurst,
  maxBadFrames: DEFAULTS.maxBadFrames,
  maxRecoverStreams: DEFAULTS.maxRecoverStreams,
  maxTokenLength: 8192,
  maxGroups: DEFAULTS.maxGroupsPerConnection,
  maxConnectionsPerUid: DEFAULTS.maxConnectionsPerUid,
  uidMax: 128,
} as const;

/** `n` nested arrays: `[[[…]]]` (2 bytes a level, the deepest shape per byte). */
export function deepArrays(n: number): string {
  return "[".repeat(n) + "]".repeat(n);
}

/** `n` nested objects: `{"a":{"a":…{}}}` (6 bytes a level). */
export function deepObjects(n: number): string {
  return '{"a":'.repeat(n - 1) + "{}" + "}".repeat(n - 1);
}

/** The deepest nested-array value that makes prefix + value + suffix at most `bytes` long. */
export function deepestArrays(prefix: string, suffix: string, bytes: number): string {
  return prefix + deepArrays(Math.floor((bytes - prefix.length - suffix.length) / 2)) + suffix;
}

/**
 * prefix + `[item,item,…]` + suffix, as many items as fit in `bytes` (item(i) may vary by index,
 * e.g. distinct keys). `open`/`close` make it an object: `{` … `}`.
 */
export function wide(prefix: string, suffix: string, bytes: number, item: (i: number) => string, open = "[", close = "]"): string {
  const parts: string[] = [];
  let size = prefix.length + suffix.length + open.length + close.length;
  for (let i = 0; ; i++) {
    const it = item(i);
    const add = it.length + (i > 0 ? 1 : 0);
    if (size + add > bytes) break;
    parts.push(it);
    size += add;
  }
  return prefix + open + parts.join(",") + close + suffix;
}

/** A value nested `levels` arrays deep whose innermost array holds `inner` (already joined items). */
export function nestedAround(levels: number, inner: string): string {
  return "[".repeat(levels) + inner + "]".repeat(levels);
}

/**
 * A value exactly at the depth limit, filled to the byte budget: (levels - 1) arrays around an
 * innermost array of zeros. With the frame's or body's own top-level object that is
 * levels + 1 deep.
 */
export function atDepthLimit(prefix: string, suffix: string, bytes: number, levels: number): string {
  const outer = levels - 1;
  return wide(prefix + "[".repeat(outer), "]".repeat(outer) + suffix, bytes, () => "0");
}

/** A JSON string literal of `char` (already an escape sequence or a character) repeated to fill. */
export function stringOf(prefix: string, suffix: string, bytes: number, unit: string): string {
  const n = Math.floor((bytes - prefix.length - suffix.length - 2) / Buffer.byteLength(unit));
  return prefix + '"' + unit.repeat(n) + '"' + suffix;
}

/** `name` padded with `x` to `len` characters (the longest allowed uid / group is 128). */
export function padded(name: string, len: number): string {
  return name.length >= len ? name.slice(0, len) : name + "x".repeat(len - name.length);
}

const b64 = (s: string) => Buffer.from(s).toString("base64url");

/** HS256 JWS compact token over the given header and payload texts (any JSON, or not JSON). */
export function hs256(headerJson: string, payloadJson: string, secret: string): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${new Bun.CryptoHasher("sha256", secret).update(input).digest("base64url")}`;
}

export const HS256_HEADER = '{"alg":"HS256","typ":"JWT"}';

/**
 * A valid token for `sub` with `groups`, padded with a filler claim to exactly `length`
 * characters when possible (base64url cannot hit every length: then one short).
 */
export function paddedToken(sub: string, groups: readonly string[], length: number, secret: string, extra: Record<string, unknown> = {}): string {
  const claims = { sub, exp: Math.floor(Date.now() / 1000) + 3600, groups, ...extra };
  const base = hs256(HS256_HEADER, JSON.stringify({ ...claims, pad: "" }), secret).length;
  let best = "";
  for (let pad = Math.max(0, Math.floor(((length - base) * 3) / 4) - 4); pad < length; pad++) {
    const t = hs256(HS256_HEADER, JSON.stringify({ ...claims, pad: "p".repeat(pad) }), secret);
    if (t.length > length) break;
    best = t;
    if (t.length === length) break;
  }
  return best;
}
