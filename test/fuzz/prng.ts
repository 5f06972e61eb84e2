// Seeded, replayable randomness for the fuzz suite: sfc32 seeded through splitmix32, plus
// generators for bytes, strings and JSON *text* (text, not values: a 100,000-deep value cannot
// be built and stringified in JS, and 1e400, -0, duplicate keys or lone surrogates only exist
// as text), and mutations of a valid template. No packages; same seed, same output.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A 32-bit hash of a string (FNV-1a): salts a case's seed with its test's name. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const sm = splitmix32(seed);
    this.a = sm(); this.b = sm(); this.c = sm(); this.d = sm();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** sfc32: small, fast, passes PractRand to large sizes; plenty for a fuzzer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Mostly small, sometimes large: a log-uniform integer in [0, max]. */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.exp(this.float() * Math.log(max + 1))) - 1 + this.int(0, 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(0, items.length - 1)]!;
  }

  /** Picks by weight: [[3, "a"], [1, "b"]] gives "a" three times as often. */
  weighted<T>(pairs: ReadonlyArray<readonly [number, T]>): T {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let x = this.float() * total;
    for (const [w, v] of pairs) {
      if ((x -= w) < 0) return v;
    }
    return pairs[pairs.length - 1]![1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** An independent stream derived from this one (keeps later draws stable when one part changes). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

// ---------------------------------------------------------------------------------------------
// Strings

const ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~ ";
/** Characters with a meaning somewhere in pushgate or JSON: separators, escapes, controls. */
const SPECIAL = [":", ",", "\"", "\\", "/", "{", "}", "[", "]", "\u0000", "\n", "\r", "\t", "\u001f",
  "\u007f", "\u0085", "\u009f", "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffd", "\uffff", "é", "ß",
  "中", "\u202e", "😀", "𝄞", "\ud800", "\udfff", "\udc00\ud800", "%", "%00", "?", "#", "&", "=", "+", "all"];

/** A short name-like string (uids, groups, method names). */
export function nameString(r: Rng, max = 12): string {
  const n = r.int(1, max);
  let s = "";
  for (let i = 0; i < n; i++) s += r.chance(0.9) ? ASCII[r.int(0, ASCII.length - 2)] : r.pick(SPECIAL);
  return s;
}

/** Any JS string: ASCII, specials, astral characters, lone surrogates, controls; sometimes long. */
export function anyString(r: Rng, max = 40): string {
  const n = r.chance(0.04) ? r.size(70_000) : r.size(max);
  const mode = r.int(0, 3);
  let s = "";
  for (let i = 0; i < n; i++) {
    switch (mode) {
      case 0: s += ASCII[r.int(0, ASCII.length - 1)]; break;
      case 1: s += r.chance(0.7) ? ASCII[r.int(0, ASCII.length - 1)] : r.pick(SPECIAL); break;
      case 2: s += String.fromCharCode(r.int(0, 0xffff)); break;
      default: s += String.fromCodePoint(r.chance(0.5) ? r.int(0, 0x7ff) : r.int(0, 0x10ffff));
    }
  }
  return s;
}

/** A JSON string literal for `s`, escaping differently from JSON.stringify at times. */
export function stringLiteral(r: Rng, s: string): string {
  if (r.chance(0.8)) return JSON.stringify(s);
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === "\\" || c < 0x20 || r.chance(0.2)) {
      for (let i = 0; i < ch.length; i++) {
        const hex = ch.charCodeAt(i).toString(16).padStart(4, "0");
        out += "\\u" + (r.chance(0.5) ? hex : hex.toUpperCase());
      }
    } else out += ch;
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------
// JSON text

/** Numbers as JSON text, including the awkward ones. */
export function numberText(r: Rng): string {
  return r.weighted<() => string>([
    [4, () => String(r.int(-5, 1000))],
    [2, () => String(r.float() * 1e6 - 5e5)],
    [1, () => r.pick(["1e400", "-1e400", "1E-400", "-0", "0.0", "-0.0", "1e308", "2e308", "4.9e-324",
      "9007199254740991", "9007199254740993", "-9007199254740993", "123456789012345678901234567890",
      "1.7976931348623157e308", "0e0", "1E+2", "100000000000000000000000"])],
    [1, () => "9".repeat(r.int(16, 400))],
  ])();
}

export interface JsonOptions {
  /** Nesting levels the generated value may still use. */
  depth: number;
  /** Largest array/object width in the ordinary case. */
  width: number;
}

/** A random JSON value as text, bounded by opts (see deepText/wideText for the extremes). */
export function jsonText(r: Rng, opts: JsonOptions = { depth: 4, width: 6 }): string {
  const leafOnly = opts.depth <= 0;
  const kind = r.weighted<string>([
    [2, "string"], [2, "number"], [1, "bool"], [1, "null"],
    [leafOnly ? 0 : 2, "array"], [leafOnly ? 0 : 2, "object"],
  ]);
  const inner = { depth: opts.depth - 1, width: opts.width };
  switch (kind) {
    case "string": return stringLiteral(r, anyString(r));
    case "number": return numberText(r);
    case "bool": return r.chance(0.5) ? "true" : "false";
    case "null": return "null";
    case "array": {
      const n = r.size(opts.width);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(jsonText(r, inner));
      return `[${items.join(",")}]`;
    }
    default: {
      const n = r.size(opts.width);
      const entries: string[] = [];
      for (let i = 0; i < n; i++) entries.push(`${stringLiteral(r, nameString(r))}:${jsonText(r, inner)}`);
      // A key given twice: JSON.parse keeps the last one, and so must every reader.
      if (n > 0 && r.chance(0.15)) entries.push(entries[r.int(0, n - 1)]!.replace(/:.*$/s, ":" + jsonText(r, inner)));
      return `{${entries.join(",")}}`;
    }
  }
}

/** A value nested `depth` levels deep (arrays, objects or both), as text. */
export function deepText(r: Rng, depth: number): string {
  const style = r.int(0, 3);
  if (style === 0) return "[".repeat(depth) + "]".repeat(depth);
  if (style === 1) return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  if (style === 2) return "[".repeat(depth - 1) + jsonText(r, { depth: 0, width: 1 }) + "]".repeat(depth - 1);
  // Mixed: alternate arrays and objects, with a leaf at the bottom.
  let open = "";
  let close = "";
  for (let i = 0; i < depth - 1; i++) {
    if (i % 2 === 0) { open += "["; close = "]" + close; } else { open += '{"k":'; close = "}" + close; }
  }
  return open + "0" + close;
}

/** Depths around and far past the server's limit (--max-json-depth, default 32). */
export function deepDepth(r: Rng): number {
  return r.pick([2, 16, 31, 32, 33, 34, 64, 100, 1000, 5000, 20_000, 32_000, 100_000]);
}

/** A wide array or object: many small members. */
export function wideText(r: Rng, n: number): string {
  if (r.chance(0.5)) return "[" + Array.from({ length: n }, (_, i) => String(i % 10)).join(",") + "]";
  return "{" + Array.from({ length: n }, (_, i) => `"k${i}":${i % 3}`).join(",") + "}";
}

/** Object text from [key, value text] pairs (keys may repeat: duplicate keys are a case too). */
export function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return "{" + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",") + "}";
}

/** A value of the wrong kind for most fields: every JSON type, sometimes extreme. */
export function wrongValueText(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => jsonText(r, { depth: 2, width: 4 })],
    [1, () => deepText(r, deepDepth(r))],
    [1, () => wideText(r, r.pick([100, 2000, 20_000]))],
    [1, () => stringLiteral(r, "x".repeat(r.pick([64, 65, 128, 129, 256, 257, 5000, 300_000])))],
  ])();
}

// ---------------------------------------------------------------------------------------------
// Templates and mutation

/** A frame or body as [key, value text] entries, mutated structurally before serialising. */
export type Template = Array<[string, string]>;

/** Structural changes to a valid template: drop, retype, add, duplicate a field. */
export function mutateTemplate(r: Rng, t: Template): Template {
  const out: Template = t.map(([k, v]) => [k, v]);
  const n = r.int(1, 3);
  for (let i = 0; i < n; i++) {
    const at = out.length > 0 ? r.int(0, out.length - 1) : 0;
    switch (r.int(0, 5)) {
      case 0: if (out.length > 0) out.splice(at, 1); break;
      case 1: if (out.length > 0) out[at]![1] = wrongValueText(r); break;
      case 2: out.push([nameString(r), jsonText(r, { depth: 2, width: 3 })]); break;
      case 3: if (out.length > 0) out.push([out[at]![0], wrongValueText(r)]); break; // duplicate key
      case 4: if (out.length > 0) out[at]![0] = mutateString(r, out[at]![0]); break;
      default: if (out.length > 0) out[at]![1] = mutateText(r, out[at]![1]);
    }
  }
  return out;
}

/** Character-level edits of a short string (a key, a name). */
export function mutateString(r: Rng, s: string): string {
  const chars = [...s];
  const at = r.int(0, chars.length);
  switch (r.int(0, 4)) {
    case 0: chars.splice(at, 1); break;
    case 1: chars.splice(at, 0, r.pick(SPECIAL)); break;
    case 2: return s.toUpperCase();
    case 3: return s + s;
    default: chars.splice(at, 0, String.fromCharCode(r.int(0, 0xffff)));
  }
  return chars.join("");
}

const TOKENS = ["{", "}", "[", "]", ",", ":", '"', "\\", "\\u", "\\ud800", "null", "1e400", "-", "\u0000", " ", "\n", "/*", "NaN", "Infinity", "undefined", "'", "\u2028"];

/** Text-level edits of JSON text: insert/delete/duplicate spans, tokens, truncation. */
export function mutateText(r: Rng, text: string): string {
  let s = text;
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, s.length);
    switch (r.int(0, 6)) {
      case 0: s = s.slice(0, at) + r.pick(TOKENS) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(Math.min(s.length, at + r.int(1, 8))); break;
      case 2: s = s.slice(0, r.int(0, s.length)); break; // truncate
      case 3: { const len = r.int(1, 16); s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at); break; }
      case 4: s = s.slice(0, at) + String.fromCharCode(r.int(0, 0x7f)) + s.slice(at + 1); break;
      case 5: s = s.slice(0, at) + String.fromCharCode(r.int(0, 0xffff)) + s.slice(at); break;
      default: s = s.slice(0, at) + deepText(r, r.pick([3, 33, 200])) + s.slice(at);
    }
  }
  return s;
}

/** Byte-level edits: flip bits, insert, delete, duplicate, truncate. */
export function mutateBytes(r: Rng, input: Uint8Array): Uint8Array {
  let b = Array.from(input);
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, b.length);
    switch (r.int(0, 5)) {
      case 0: if (b.length > 0) { const j = Math.min(at, b.length - 1); b[j] = b[j]! ^ (1 << r.int(0, 7)); } break;
      case 1: b.splice(at, 0, ...r.bytes(r.int(1, 4))); break;
      case 2: b.splice(at, r.int(1, 4)); break;
      case 3: b.splice(at, 0, ...b.slice(at, at + r.int(1, 12))); break;
      case 4: b = b.slice(0, r.int(0, b.length)); break;
      default: if (b.length > 0) b[Math.min(at, b.length - 1)] = r.pick([0x00, 0x7f, 0x80, 0xff, 0xc0, 0xed, 0xf4, 0xf8]);
    }
  }
  return Uint8Array.from(b);
}
