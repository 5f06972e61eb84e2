// JWT verification (JWS compact, HS256 / RS256 / ES256) with WebCrypto only. A verifier holds
// one key and accepts exactly one alg: the header cannot pick the algorithm, so `alg: none` and
// HS256-signed-with-the-public-key (key confusion) fail. verify() never throws.
import { type Result, ok, err } from "../core/result.ts";
import { decodeBase64Url } from "./base64url.ts";
import { type VerifyKey, importPublicKey, importSecret } from "./jwt-keys.ts";
import { type ClaimRules, checkClaims } from "./jwt-claims.ts";

export type JwtAlg = "HS256" | "RS256" | "ES256";

export interface JwtOptions {
  /** HS256 shared secret (PUSHGATE_JWT_SECRET), at least 32 bytes. */
  secret?: string;
  /** RS256/ES256 public key: the text of a PEM (BEGIN PUBLIC KEY / BEGIN RSA PUBLIC KEY) or a JWK. */
  publicKey?: string;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** When set, `aud` (a string or an array) must contain it. */
  audience?: string;
  /** Clock skew allowed for exp and nbf. */
  leewaySeconds: number;
  /** Clock skew for exp alone, when it must differ (the server: 0, a connection expires at exp). */
  expLeewaySeconds?: number;
}

export interface JwtClaims {
  sub: string;
  exp: number;
  groups?: string[];
  [k: string]: unknown;
}

export interface JwtVerifier {
  readonly alg: JwtAlg;
  verify(token: string, nowSeconds?: number): Promise<Result<JwtClaims>>;
}

/** Longer tokens are refused before any decoding. */
export const MAX_TOKEN_LENGTH = 8192;

const ALG_NAME = /^[A-Za-z0-9]{1,16}$/;

function fail(message: string) {
  return err("E_AUTH_FAILED", message);
}

/** base64url → UTF-8 → JSON → a plain object, or null. */
function decodeJsonObject(part: string): Record<string, unknown> | null {
  const bytes = decodeBase64Url(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function checkHeader(header: Record<string, unknown>, verifyKey: VerifyKey): string | null {
  const { alg, typ } = header;
  if (alg === undefined) return "alg missing";
  if (typeof alg !== "string") return "alg must be a string";
  if (alg.toLowerCase() === "none") return "alg none is not allowed";
  if (alg !== verifyKey.alg) {
    const shown = ALG_NAME.test(alg) ? `alg ${alg}` : "alg";
    const held = verifyKey.alg === "HS256" ? "secret" : "key";
    return `${shown} does not match the configured ${verifyKey.alg} ${held}`;
  }
  if (typ !== undefined && (typeof typ !== "string" || typ.toUpperCase() !== "JWT")) return "typ must be JWT";
  if (header.crit !== undefined) return "crit header is not supported";
  return null;
}

async function verifyToken(
  token: unknown,
  verifyKey: VerifyKey,
  rules: ClaimRules,
  now: number,
): Promise<Result<JwtClaims>> {
  if (typeof token !== "string" || token.length === 0) return fail("malformed token");
  if (token.length > MAX_TOKEN_LENGTH) return fail("token too long");
  const parts = token.split(".");
  if (parts.length !== 3) return fail("malformed token");
  const [h, p, s] = parts as [string, string, string];

  // Every part must decode before anything else is judged (docs/auth.md, token rules 2–4): a
  // padded or otherwise non-canonical part is a malformed token, not a bad signature.
  const header = decodeJsonObject(h);
  const payload = decodeJsonObject(p);
  const signature = decodeBase64Url(s);
  if (!header || !payload || !signature) return fail("malformed token");
  const headerProblem = checkHeader(header, verifyKey);
  if (headerProblem) return fail(headerProblem);

  // A DER-encoded ECDSA signature, or one for another key size, is refused here.
  if (signature.length !== verifyKey.signatureBytes) return fail("bad signature");
  const signed = new TextEncoder().encode(`${h}.${p}`);
  const valid = await crypto.subtle.verify(verifyKey.params, verifyKey.key, signature, signed);
  if (!valid) return fail("bad signature");
  return checkClaims(payload, rules, now);
}

function checkOptions(opts: JwtOptions): Result<null> {
  const hasSecret = opts.secret !== undefined;
  const hasKey = opts.publicKey !== undefined;
  if (hasSecret && hasKey) return err("E_BAD_PARAMS", "secret and publicKey are both set; give exactly one");
  if (!hasSecret && !hasKey) return err("E_BAD_PARAMS", "neither secret nor publicKey is set; give exactly one");
  if (!Number.isFinite(opts.leewaySeconds) || opts.leewaySeconds < 0) {
    return err("E_BAD_PARAMS", "leewaySeconds must be a non-negative number", "leewaySeconds");
  }
  if (opts.issuer === "") return err("E_BAD_PARAMS", "issuer must not be empty", "issuer");
  if (opts.audience === "") return err("E_BAD_PARAMS", "audience must not be empty", "audience");
  return ok(null);
}

/** A verifier for exactly one of `secret` (HS256) or `publicKey` (RS256/ES256, by key type). */
export async function createJwtVerifier(opts: JwtOptions): Promise<Result<JwtVerifier>> {
  const checked = checkOptions(opts);
  if (!checked.ok) return checked;
  const imported = opts.publicKey !== undefined
    ? await importPublicKey(opts.publicKey)
    : await importSecret(opts.secret ?? "");
  if (!imported.ok) return imported;
  const verifyKey = imported.value;
  const rules: ClaimRules = { issuer: opts.issuer, audience: opts.audience, leewaySeconds: opts.leewaySeconds, expLeewaySeconds: opts.expLeewaySeconds };
  return ok({
    alg: verifyKey.alg,
    async verify(token: string, nowSeconds: number = Date.now() / 1000): Promise<Result<JwtClaims>> {
      try {
        return await verifyToken(token, verifyKey, rules, nowSeconds);
      } catch {
        return fail("malformed token");
      }
    },
  });
}
