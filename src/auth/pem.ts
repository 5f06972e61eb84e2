// PEM text → SubjectPublicKeyInfo DER, the form WebCrypto imports. Accepts "BEGIN PUBLIC KEY"
// (SPKI) and "BEGIN RSA PUBLIC KEY" (PKCS#1, wrapped into SPKI here); names every other kind.
import { type Result, ok, err } from "../core/result.ts";

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----([^-]*)-----END ([A-Z0-9 ]{1,40})-----/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }.
const RSA_ALGORITHM_ID = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

function bad(message: string) {
  return err("E_BAD_PARAMS", message, "publicKey");
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING { 0 unused bits, RSAPublicKey } }. */
function wrapPkcs1(pkcs1: Uint8Array): Uint8Array<ArrayBuffer> {
  const bitString = [0x03, ...derLength(pkcs1.length + 1), 0x00];
  const bodyLength = RSA_ALGORITHM_ID.length + bitString.length + pkcs1.length;
  const head = [0x30, ...derLength(bodyLength), ...RSA_ALGORITHM_ID, ...bitString];
  const out = new Uint8Array(head.length + pkcs1.length);
  out.set(head);
  out.set(pkcs1, head.length);
  return out;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export type PemKind = "spki" | "pkcs1";

/** The DER of the one public key block in `text`, as SPKI. */
export function pemToSpki(text: string): Result<{ der: Uint8Array<ArrayBuffer>; kind: PemKind }> {
  const count = text.split("-----BEGIN ").length - 1;
  if (count === 0) return bad("not a PEM key (no -----BEGIN line)");
  if (count > 1) return bad("PEM text holds more than one block; give exactly one public key");
  const m = BLOCK.exec(text);
  if (!m || m[1] !== m[3]) return bad("PEM block is malformed (BEGIN/END lines do not match)");
  const label = m[1]!;
  if (label.endsWith("PRIVATE KEY")) return bad("PEM is a private key; give the public key (BEGIN PUBLIC KEY)");
  if (label === "CERTIFICATE") return bad("PEM is a certificate; give its public key (BEGIN PUBLIC KEY)");
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY") {
    return bad(`PEM type "${label}" is not supported (use BEGIN PUBLIC KEY)`);
  }
  const body = m[2]!;
  // RFC 1421 headers (e.g. Proc-Type) mean an encrypted or otherwise unusual block.
  if (body.includes(":")) return bad("PEM block has headers; give a plain public key");
  const der = decodeBase64(body.replace(/\s+/g, ""));
  if (!der) return bad("PEM body is not valid base64");
  return label === "PUBLIC KEY" ? ok({ der, kind: "spki" }) : ok({ der: wrapPkcs1(der), kind: "pkcs1" });
}
