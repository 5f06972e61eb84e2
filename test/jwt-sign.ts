// Test helpers: real keys and real signed JWTs via WebCrypto, plus forging (alg none, tampering,
// DER signatures). Key generation is slow-ish (RSA ~100 ms): generate once per test file.
import { encodeBase64Url } from "../src/auth/base64url.ts";

export type Claims = Record<string, unknown>;
export type Header = Record<string, unknown>;

/** A secret long enough for HS256 (createJwtVerifier wants ≥ 32 bytes). */
export const TEST_SECRET = "pushgate-test-secret-0123456789abcdef";

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Valid claims for uid "42", expiring in an hour; override or add any claim. */
export function claims(overrides: Claims = {}): Claims {
  return { sub: "42", exp: nowSeconds() + 3600, ...overrides };
}

export function b64url(bytes: Uint8Array | ArrayBuffer): string {
  return encodeBase64Url(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

/** JSON (or a raw string, as is) → base64url. */
export function b64urlJson(value: unknown): string {
  return b64url(new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)));
}

/** `header.payload.signature` with any header, payload and signature text: for forged tokens. */
export function unsigned(header: unknown, payload: unknown, signature = ""): string {
  return `${b64urlJson(header)}.${b64urlJson(payload)}.${signature}`;
}

async function signWith(
  alg: string,
  params: Parameters<SubtleCrypto["sign"]>[0],
  key: CryptoKey,
  payload: Claims,
  header: Header,
): Promise<string> {
  const input = `${b64urlJson({ alg, typ: "JWT", ...header })}.${b64urlJson(payload)}`;
  const sig = await crypto.subtle.sign(params, key, new TextEncoder().encode(input));
  return `${input}.${b64url(sig)}`;
}

export async function signHS256(payload: Claims, secret: string, header: Header = {}): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
  );
  return signWith("HS256", "HMAC", key, payload, header);
}

export interface TestKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** SPKI PEM text ("BEGIN PUBLIC KEY"): what JwtOptions.publicKey takes. */
  publicPem: string;
  /** JWK JSON text of the public key: also what JwtOptions.publicKey takes. */
  publicJwk: string;
  jwk: Record<string, unknown>;
}

export function toPem(der: Uint8Array | ArrayBuffer, label = "PUBLIC KEY"): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

async function describePair(pair: CryptoKeyPair): Promise<TestKeyPair> {
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { kty, n, e, crv, x, y } = jwk;
  const publicOnly: Record<string, unknown> = kty === "RSA" ? { kty, n, e } : { kty, crv, x, y };
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicPem: toPem(spki),
    publicJwk: JSON.stringify(publicOnly),
    jwk: publicOnly,
  };
}

export async function generateRsa(modulusLength = 2048): Promise<TestKeyPair> {
  const pair = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  return describePair(pair);
}

export async function generateEc(namedCurve: "P-256" | "P-384" = "P-256"): Promise<TestKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"]);
  return describePair(pair);
}

export function signRS256(payload: Claims, privateKey: CryptoKey, header: Header = {}): Promise<string> {
  return signWith("RS256", "RSASSA-PKCS1-v1_5", privateKey, payload, header);
}

/** ES256 with the JWS signature format: raw r||s, 64 bytes. */
export function signES256(payload: Claims, privateKey: CryptoKey, header: Header = {}): Promise<string> {
  return signWith("ES256", { name: "ECDSA", hash: "SHA-256" }, privateKey, payload, header);
}

function derInteger(bytes: Uint8Array): number[] {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = [...bytes.subarray(i)];
  if ((v[0] ?? 0) & 0x80) v.unshift(0);
  return [0x02, v.length, ...v];
}

/** Raw r||s (64 bytes) → DER SEQUENCE { INTEGER r, INTEGER s }: what non-JOSE ECDSA emits. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const body = [...derInteger(raw.subarray(0, 32)), ...derInteger(raw.subarray(32, 64))];
  return new Uint8Array([0x30, body.length, ...body]);
}

/** The same ES256 token, with its signature re-encoded as DER (must be refused). */
export function withDerSignature(token: string): string {
  const [h, p, s] = token.split(".");
  const raw = new Uint8Array(Buffer.from(s ?? "", "base64url"));
  return `${h}.${p}.${b64url(rawToDer(raw))}`;
}
