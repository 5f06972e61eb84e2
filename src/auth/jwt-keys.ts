// Key material → a WebCrypto verify key, with the one JWS alg it may verify. Every refusal is
// an exact start-up message; field says which option was wrong ("secret" or "publicKey").
import { type Result, ok, err } from "../core/result.ts";
import { pemToSpki } from "./pem.ts";
import type { JwtAlg } from "./jwt.ts";

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
const MIN_SECRET_BYTES = 32;
const MIN_RSA_BITS = 2048;

/** The algorithm argument of crypto.subtle.verify (no DOM lib, so no AlgorithmIdentifier name). */
export type VerifyParams = Parameters<SubtleCrypto["verify"]>[0];

export interface VerifyKey {
  readonly alg: JwtAlg;
  readonly key: CryptoKey;
  readonly params: VerifyParams;
  /** The exact signature length the alg produces with this key. */
  readonly signatureBytes: number;
}

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const EC_OID = new Uint8Array([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);

function bad(message: string, field: "secret" | "publicKey" = "publicKey") {
  return err("E_BAD_PARAMS", message, field);
}

function quote(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 32));
}

function includesBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function attempt(f: () => Promise<CryptoKey>): Promise<CryptoKey | null> {
  try {
    return await f();
  } catch {
    return null;
  }
}

function rsaKey(key: CryptoKey): Result<VerifyKey> {
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return bad(`RSA key is ${bits} bits; RS256 needs at least ${MIN_RSA_BITS}`);
  return ok({ alg: "RS256", key, params: RSA, signatureBytes: Math.ceil(bits / 8) });
}

function ecKey(key: CryptoKey): Result<VerifyKey> {
  return ok({ alg: "ES256", key, params: { name: "ECDSA", hash: "SHA-256" }, signatureBytes: 64 });
}

export async function importSecret(secret: string): Promise<Result<VerifyKey>> {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length === 0) return bad("secret must not be empty", "secret");
  if (secret.includes("-----BEGIN")) {
    return bad("secret looks like a PEM key; give it as the public key for RS256/ES256", "secret");
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    return bad(`secret is ${bytes.length} bytes; HS256 needs at least ${MIN_SECRET_BYTES}`, "secret");
  }
  const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return ok({ alg: "HS256", key, params: "HMAC", signatureBytes: 32 });
}

async function importPem(text: string): Promise<Result<VerifyKey>> {
  const pem = pemToSpki(text);
  if (!pem.ok) return pem;
  const { der, kind } = pem.value;
  const rsa = await attempt(() => crypto.subtle.importKey("spki", der, RSA, false, ["verify"]));
  if (rsa) return rsaKey(rsa);
  if (kind === "pkcs1") return bad("RSA PUBLIC KEY PEM is not a valid RSA public key");
  const ec = await attempt(() => crypto.subtle.importKey("spki", der, EC, false, ["verify"]));
  if (ec) return ecKey(ec);
  if (includesBytes(der, EC_OID)) return bad("PEM is an EC key on a curve other than P-256 (ES256 needs P-256)");
  return bad("PEM is not an RSA or EC P-256 public key");
}

async function importJwk(text: string): Promise<Result<VerifyKey>> {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    return bad("JWK is not valid JSON");
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return bad("JWK must be a JSON object");
  const j = jwk as Record<string, unknown>;
  if (Array.isArray(j.keys)) return bad("JWK is a key set (\"keys\"); give a single key");
  if (j.d !== undefined) return bad("JWK is a private key (has \"d\"); give the public key");
  if (j.use !== undefined && j.use !== "sig") return bad(`JWK use ${quote(j.use)} is not "sig"`);
  if (j.kty === "RSA") {
    if (j.alg !== undefined && j.alg !== "RS256") return bad(`JWK alg ${quote(j.alg)} is not RS256`);
    if (typeof j.n !== "string" || typeof j.e !== "string") return bad("RSA JWK needs string \"n\" and \"e\"");
    const { n, e } = j;
    const key = await attempt(() => crypto.subtle.importKey("jwk", { kty: "RSA", n, e }, RSA, false, ["verify"]));
    return key ? rsaKey(key) : bad("JWK is not a valid RSA public key");
  }
  if (j.kty === "EC") {
    if (j.crv !== "P-256") return bad(`JWK curve ${quote(j.crv)} is not supported (ES256 needs P-256)`);
    if (j.alg !== undefined && j.alg !== "ES256") return bad(`JWK alg ${quote(j.alg)} is not ES256`);
    if (typeof j.x !== "string" || typeof j.y !== "string") return bad("EC JWK needs string \"x\" and \"y\"");
    const { x, y } = j;
    const key = await attempt(() => crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x, y }, EC, false, ["verify"]));
    return key ? ecKey(key) : bad("JWK is not a valid EC P-256 public key");
  }
  return bad(`JWK kty ${quote(j.kty)} is not supported (use RSA or EC)`);
}

/** The text of a PEM (SPKI or PKCS#1 RSA) or of a JWK (RSA, or EC P-256). */
export async function importPublicKey(text: string): Promise<Result<VerifyKey>> {
  const trimmed = text.trim();
  if (trimmed.length === 0) return bad("public key must not be empty");
  if (trimmed.startsWith("{")) return importJwk(trimmed);
  if (trimmed.includes("-----BEGIN")) return importPem(trimmed);
  return bad("public key must be the text of a PEM (BEGIN PUBLIC KEY) or of a JWK (JSON)");
}
