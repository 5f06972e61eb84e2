// Generators of client → server WebSocket byte streams: valid messages (seed or pushgate.v1,
// fragmented, with control frames between fragments) and every kind of framing violation, or a
// valid stream mutated byte by byte.
import { type Rng, anyString, deepDepth, deepText, jsonText, mutateBytes, mutateText, nameString } from "./prng.ts";
import { type FrameSpec, encodeSpec } from "./wire-model.ts";

const enc = new TextEncoder();

export interface StreamCase {
  bytes: Uint8Array;
  /** What the generator meant to produce (printed with a failure). */
  recipe: string[];
}

function spec(r: Rng, opcode: number, payload: Uint8Array, over: Partial<FrameSpec> = {}): FrameSpec {
  return { fin: true, rsv: 0, opcode, masked: true, mask: r.bytes(4), payload, lengthForm: "auto", ...over };
}

/** A text message a protocol would take: a seed login/X:payload, or pushgate.v1 JSON. */
export function messageText(r: Rng, json: boolean, first: boolean, uid: string): string {
  if (!json) {
    if (first) return r.weighted<() => string>([[6, () => uid], [1, () => nameString(r)], [1, () => anyString(r, 20)], [1, () => "all"]])();
    return r.weighted<() => string>([
      [3, () => `${uid}:${anyString(r)}`],
      [2, () => `all:${anyString(r)}`],
      [2, () => `${nameString(r)}:${anyString(r)}`],
      [1, () => anyString(r)],
      [1, () => `:${anyString(r)}`],
    ])();
  }
  const id = r.chance(0.8) ? r.int(0, 1e6) : anyString(r, 70);
  const frame = r.weighted<() => string>([
    [3, () => JSON.stringify({ type: "ping", id })],
    [first ? 6 : 1, () => JSON.stringify({ type: "auth", uid })],
    [3, () => `{"type":"send","id":${JSON.stringify(id)},"to":${JSON.stringify(r.pick([`uid:${uid}`, "all", `uid:${nameString(r)}`, `group:${nameString(r)}`, nameString(r)]))},"data":${jsonText(r)}}`],
    [1, () => `{"type":"send","id":1,"to":"all","data":${deepText(r, deepDepth(r) % 6000 + 2)}}`],
    [1, () => jsonText(r)],
  ])();
  return r.chance(0.2) ? mutateText(r, frame) : frame;
}

/** Splits `payload` into 1–4 fragments at random byte offsets (UTF-8 sequences may be cut). */
function fragments(r: Rng, opcode: number, payload: Uint8Array, pings: boolean): FrameSpec[] {
  const n = payload.length < 2 ? 1 : r.int(1, Math.min(4, payload.length));
  const cuts = [...new Set(Array.from({ length: n - 1 }, () => r.int(1, payload.length - 1)))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, payload.length];
  const out: FrameSpec[] = [];
  for (let i = 0; i < bounds.length - 1; i++) {
    const last = i === bounds.length - 2;
    out.push(spec(r, i === 0 ? opcode : 0, payload.subarray(bounds[i], bounds[i + 1]), {
      fin: last, lengthForm: r.weighted<FrameSpec["lengthForm"]>([[8, "auto"], [1, 16], [1, 64]]),
    }));
    if (!last && pings && r.chance(0.3)) out.push(spec(r, r.chance(0.5) ? 9 : 10, r.bytes(r.int(0, 20))));
  }
  return out;
}

/** One frame (or fragment run) that breaks a rule; the recipe names it. */
function violation(r: Rng, maxPayload: number): [string, FrameSpec[]] {
  const small = () => enc.encode(nameString(r));
  return r.pick<() => [string, FrameSpec[]]>([
    () => { const op = r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]); return [`reserved opcode ${op}`, [spec(r, op, small())]]; },
    () => { const rsv = r.int(1, 7); return [`rsv ${rsv}`, [spec(r, r.pick([0, 1, 2, 8, 9, 10]), small(), { rsv })]]; },
    () => ["unmasked", [spec(r, r.pick([1, 2, 8, 9]), small(), { masked: false })]],
    () => ["continuation without a start", [spec(r, 0, small(), { fin: r.chance(0.5) })]],
    () => ["fragmented control", [spec(r, r.pick([8, 9, 10]), small(), { fin: false })]],
    () => ["control over 125 bytes", [spec(r, r.pick([8, 9, 10]), r.bytes(r.int(126, 300)))]],
    () => ["control with a 16/64-bit length", [spec(r, r.pick([9, 10]), small(), { lengthForm: r.pick([16, 64] as const) })]],
    () => ["close, 1 byte", [spec(r, 8, r.bytes(1))]],
    () => {
      const code = r.pick([0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]);
      return [`close code ${code}`, [spec(r, 8, Uint8Array.from([code >> 8, code & 0xff, ...small()]))]];
    },
    () => ["close reason not UTF-8", [spec(r, 8, Uint8Array.from([0x03, 0xe8, 0x61, r.pick([0xff, 0xc0, 0xed, 0x80])]))]],
    () => ["text not UTF-8", [spec(r, 1, Uint8Array.from([...small(), r.pick([0xff, 0xfe, 0xc0, 0x80, 0xf8]), ...r.bytes(r.int(0, 3))]))]],
    () => ["lone surrogate as UTF-8", [spec(r, 1, Uint8Array.from([0x61, 0xed, r.int(0xa0, 0xbf), r.int(0x80, 0xbf)]))]],
    () => {
      // UTF-8 cut across fragments that never completes: é's lead byte, then an ASCII byte.
      return ["UTF-8 split badly across fragments", [spec(r, 1, Uint8Array.from([0x61, 0xc3]), { fin: false }), spec(r, 0, Uint8Array.from([0x41]))]];
    },
    () => ["new message inside a fragmented one", [spec(r, 1, small(), { fin: false }), spec(r, r.pick([1, 2]), small())]],
    () => { const n = maxPayload + r.int(1, 100); return [`data over max payload (${n})`, [spec(r, r.pick([1, 2]), new Uint8Array(n).fill(0x61))]]; },
    () => {
      const declared = r.pick([BigInt(maxPayload + 1), 1n << 32n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n]);
      return [`declared length ${declared}`, [spec(r, 1, small(), { lengthForm: 64, declared })]];
    },
    () => {
      const half = Math.floor(maxPayload / 2) + 1;
      return ["fragments summing over max payload", [spec(r, 1, new Uint8Array(half).fill(0x61), { fin: false }), spec(r, 0, new Uint8Array(half).fill(0x62))]];
    },
  ])();
}

/** A valid message as frames (maybe fragmented, maybe with pings/pongs between fragments). */
function validMessage(r: Rng, json: boolean, first: boolean, uid: string, maxPayload: number): [string, FrameSpec[]] {
  const kind = r.weighted<string>([[10, "text"], [1, "binary"], [2, "ping"], [1, "pong"], [1, "close"], [1, "edge"]]);
  if (kind === "binary") return ["binary", fragments(r, 2, r.bytes(r.int(0, 40)), true)];
  if (kind === "ping" || kind === "pong") return [kind, [spec(r, kind === "ping" ? 9 : 10, r.bytes(r.int(0, 125)))]];
  if (kind === "close") {
    const code = r.pick([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4001, 4999]);
    const reason = enc.encode(anyString(r, 30)).subarray(0, r.int(0, 123));
    const ok = new TextDecoder("utf-8", { fatal: false }).decode(reason);
    const body = r.chance(0.2) ? new Uint8Array(0) : Uint8Array.from([code >> 8, code & 0xff, ...enc.encode(ok).subarray(0, 123)]);
    return [`close ${body.length === 0 ? "(empty)" : code}`, [spec(r, 8, body.length > 125 ? body.subarray(0, 125) : body)]];
  }
  if (kind === "edge") {
    // Exactly at the limit: accepted (a long text is then whatever the protocol makes of it).
    const n = r.pick([maxPayload, maxPayload - 1, 125, 126, 65535, 65536].filter((x) => x <= maxPayload));
    return [`text of ${n} bytes`, fragments(r, 1, new Uint8Array(n).fill(0x7a), r.chance(0.5))];
  }
  const text = messageText(r, json, first, uid);
  return [`text ${JSON.stringify(text.slice(0, 60))}`, fragments(r, 1, enc.encode(text), true)];
}

/** A whole stream: a few frames, at most one violation (usually last), or a mutated valid stream. */
export function streamCase(r: Rng, json: boolean, uid: string, maxPayload: number): StreamCase {
  const recipe: string[] = [];
  const frames: FrameSpec[] = [];
  const n = r.int(1, 6);
  for (let i = 0; i < n; i++) {
    const [what, specs] = validMessage(r, json, i === 0, uid, maxPayload);
    recipe.push(what);
    frames.push(...specs);
  }
  const style = r.weighted<string>([[4, "violation"], [3, "valid"], [3, "mutated"], [1, "garbage"]]);
  if (style === "violation") {
    const [what, specs] = violation(r, maxPayload);
    recipe.push(`VIOLATION ${what}`);
    frames.splice(r.chance(0.7) ? frames.length : r.int(0, frames.length), 0, ...specs);
  }
  let bytes = concat(frames.map(encodeSpec));
  if (style === "mutated") {
    bytes = mutateBytes(r, bytes);
    recipe.push("MUTATED bytes");
  }
  if (style === "garbage") {
    bytes = concat([bytes, r.bytes(r.int(1, 64))]);
    recipe.push("GARBAGE tail");
  }
  return { bytes, recipe };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function sentinelPing(r: Rng, tag: string): Uint8Array {
  return encodeSpec(spec(r, 9, enc.encode(tag)));
}
