// A reference model of the server side of RFC 6455 framing, as Bun 1.4.5 (uWebSockets) applies
// it, so a fuzz case knows what the server must do with the bytes it wrote. Observed behaviour
// this model encodes (checked against a live server before writing it):
// - Every framing violation is closed by Bun itself with a close frame, then TCP end: 1002 with
//   a "Received …" reason for reserved opcodes 3–7/B–F, RSV1 (no extension is negotiated),
//   RSV2/RSV3, an unmasked client frame, a continuation outside a message, a new data frame
//   inside a fragmented message, a fragmented control frame or one with a 16/64-bit length
//   field (even when it says 5), a 1-byte close
//   payload and an invalid close code; 1007 for invalid UTF-8 (a text message, checked whole
//   at its last fragment, or a close reason); 1009 when a data frame's declared length passes
//   maxPayload — at its header, before any payload — or, for a continuation that fits alone,
//   as soon as the message's bytes received pass it (not at the header: Bun waits for them).
// - A 64-bit length with its top bit set is taken as huge (1009), not as a protocol error.
// - Non-minimal length encodings (126 + a 16-bit 5) are accepted.
// - A valid close frame is echoed (code and reason) and the connection ends; an empty one is
//   echoed empty. Valid close codes: 1000–1003, 1007–1014, 3000–4999.
// - Pings are answered with a pong carrying their payload, also between fragments.
// - Nothing after a close or a violation is read.

export interface WireMessage { opcode: 1 | 2; payload: Uint8Array }

export type WireEnd =
  | { kind: "violation"; codes: number[]; why: string }
  | { kind: "close"; code: number | null; reason: string }
  | { kind: "open" };

export interface WireModel {
  /** Complete data messages the server hands to pushgate, in order, before `end`. */
  messages: WireMessage[];
  /** Payloads of the pings the server answers before `end`. */
  pings: Uint8Array[];
  end: WireEnd;
  /** Bytes that would finish a frame the stream stops inside; empty when it ends on a boundary. */
  fill: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

const FILL_CHAR = 0x61; // 'a': filler payload that unmasks to valid UTF-8

/** Runs the model over everything the client wrote after the handshake. */
export function modelWire(bytes: Uint8Array, maxPayload: number): WireModel {
  const messages: WireMessage[] = [];
  const pings: Uint8Array[] = [];
  let pos = 0;
  let fragOpcode: 1 | 2 | null = null;
  let fragParts: Uint8Array[] = [];
  let fragLength = 0;
  const done = (end: WireEnd): WireModel => ({ messages, pings, end, fill: new Uint8Array(0) });

  while (pos < bytes.length) {
    const start = pos;
    const avail = bytes.length - start;
    // Header: 2 bytes, extended length, mask key. A partial header is completed with a
    // masked zero length (b1 = 0x80), zero length bytes and a zero mask.
    if (avail < 2) return { messages, pings, end: { kind: "open" }, fill: Uint8Array.from([0x80, 0, 0, 0, 0]) };
    const b0 = bytes[start]!;
    const b1 = bytes[start + 1]!;
    const len7 = b1 & 0x7f;
    const extBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const masked = (b1 & 0x80) !== 0;
    const headLen = 2 + extBytes + (masked ? 4 : 0);
    if (avail < headLen) {
      return { messages, pings, end: { kind: "open" }, fill: new Uint8Array(headLen - avail) };
    }
    let length: number;
    let huge = false;
    if (len7 === 126) length = (bytes[start + 2]! << 8) | bytes[start + 3]!;
    else if (len7 === 127) {
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[start + 2 + i]!);
      huge = v > BigInt(Number.MAX_SAFE_INTEGER);
      length = huge ? Number.MAX_SAFE_INTEGER : Number(v);
    } else length = len7;

    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 0x0f;
    const control = op >= 8;
    const problems: string[] = [];
    if (b0 & 0x40) problems.push("RSV1");
    if (b0 & 0x30) problems.push("RSV2/3");
    if (!masked) problems.push("unmasked");
    if ((op >= 3 && op <= 7) || op >= 0xb) problems.push(`opcode ${op}`);
    if (op === 0 && fragOpcode === null) problems.push("continuation outside a message");
    if ((op === 1 || op === 2) && fragOpcode !== null) problems.push("new message inside a fragmented one");
    if (control && !fin) problems.push("fragmented control frame");
    // Judged on the 7-bit field: any extended length form is refused, even for 5 bytes.
    if (control && len7 > 125) problems.push("control frame over 125 bytes");
    const tooBig = !control && op <= 2 && (huge || length > maxPayload);
    if (problems.length > 0 || tooBig) {
      // Several problems in one header: Bun may judge any of them first.
      const codes = [...(problems.length > 0 ? [1002] : []), ...(tooBig ? [1009] : [])];
      return done({ kind: "violation", codes, why: [...problems, ...(tooBig ? ["too big"] : [])].join(", ") });
    }
    const mask = bytes.subarray(start + 2 + extBytes, start + headLen);
    const bodyStart = start + headLen;
    const have = Math.min(length, bytes.length - bodyStart);
    // A continuation that fits alone but not with the fragments before it is refused once the
    // bytes past the limit arrive, not at its header.
    if (op === 0 && fragLength + length > maxPayload && have > maxPayload - fragLength) {
      return done({ kind: "violation", codes: [1009], why: "fragments over max payload" });
    }
    if (have < length) {
      const fill = new Uint8Array(length - have);
      for (let i = 0; i < fill.length; i++) fill[i] = FILL_CHAR ^ mask[(have + i) & 3]!;
      return { messages, pings, end: { kind: "open" }, fill };
    }
    const payload = new Uint8Array(length);
    for (let i = 0; i < length; i++) payload[i] = bytes[bodyStart + i]! ^ mask[i & 3]!;
    pos = bodyStart + length;

    if (op === 8) {
      if (length === 0) return done({ kind: "close", code: null, reason: "" });
      if (length === 1) return done({ kind: "violation", codes: [1002], why: "1-byte close payload" });
      const code = (payload[0]! << 8) | payload[1]!;
      if (!validCloseCode(code)) return done({ kind: "violation", codes: [1002], why: `close code ${code}` });
      const reason = payload.subarray(2);
      if (!isUtf8(reason)) return done({ kind: "violation", codes: [1007], why: "close reason not UTF-8" });
      return done({ kind: "close", code, reason: utf8.decode(reason) });
    }
    if (op === 9) { pings.push(payload); continue; }
    if (op === 0xa) continue;
    // Data: op 1/2 starts a message, op 0 continues it.
    if (op !== 0) { fragOpcode = op as 1 | 2; fragParts = []; fragLength = 0; }
    fragParts.push(payload);
    fragLength += length;
    if (!fin) continue;
    const whole = new Uint8Array(fragLength);
    let at = 0;
    for (const p of fragParts) { whole.set(p, at); at += p.length; }
    const opcode = fragOpcode!;
    fragOpcode = null; fragParts = []; fragLength = 0;
    if (opcode === 1 && !isUtf8(whole)) return done({ kind: "violation", codes: [1007], why: "text message not UTF-8" });
    messages.push({ opcode, payload: whole });
  }
  return done({ kind: "open" });
}

/** The stream with every partial frame finished by filler, so the server is never left waiting. */
export function completeStream(bytes: Uint8Array, maxPayload: number): Uint8Array {
  let out = bytes;
  for (let i = 0; i < 8; i++) {
    const m = modelWire(out, maxPayload);
    if (m.fill.length === 0) return out;
    const next = new Uint8Array(out.length + m.fill.length);
    next.set(out);
    next.set(m.fill, out.length);
    out = next;
  }
  return out;
}

/** A client frame with full control over every header field (the fuzzer's encoder). */
export interface FrameSpec {
  fin: boolean;
  rsv: number; // 0..7 → bits 0x40, 0x20, 0x10
  opcode: number;
  masked: boolean;
  mask: Uint8Array;
  payload: Uint8Array;
  /** "auto" = minimal; 16/64 force the extended form; "lie" declares `declared` instead. */
  lengthForm: "auto" | 16 | 64;
  declared?: number | bigint;
}

export function encodeSpec(s: FrameSpec): Uint8Array {
  const head: number[] = [(s.fin ? 0x80 : 0) | ((s.rsv & 7) << 4) | (s.opcode & 0x0f)];
  const m = s.masked ? 0x80 : 0;
  const len = s.declared !== undefined ? BigInt(s.declared) : BigInt(s.payload.length);
  const form = s.lengthForm === "auto" ? (len < 126n ? 7 : len < 65536n ? 16 : 64) : s.lengthForm;
  if (form === 7) head.push(m | Number(len));
  else if (form === 16) head.push(m | 126, Number((len >> 8n) & 0xffn), Number(len & 0xffn));
  else {
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(i * 8)) & 0xffn));
  }
  if (s.masked) head.push(...s.mask);
  const body = new Uint8Array(s.payload.length);
  for (let i = 0; i < body.length; i++) body[i] = s.masked ? s.payload[i]! ^ s.mask[i & 3]! : s.payload[i]!;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
