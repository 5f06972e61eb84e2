// Claim checks on a payload whose signature already verified: time (exp, nbf), issuer,
// audience, and the identity claims (sub is the uid, groups are joined at login).
import { type Result, ok, err } from "../core/result.ts";
import { validateGroup, validateUid } from "../core/names.ts";
import type { JwtClaims } from "./jwt.ts";

const MAX_GROUPS_CLAIM = 256;

export interface ClaimRules {
  readonly issuer?: string;
  readonly audience?: string;
  readonly leewaySeconds: number;
  /** Leeway for `exp` alone (default leewaySeconds); the server uses 0: a connection expires at exp. */
  readonly expLeewaySeconds?: number;
}

/** The Date range in seconds: an exp past it has no millisecond time (exp * 1000 is Infinity). */
const MAX_NUMERIC_DATE = 8.64e12;

function fail(message: string) {
  return err("E_AUTH_FAILED", message);
}

function isNumericDate(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function hasAudience(aud: unknown, audience: string): boolean {
  if (typeof aud === "string") return aud === audience;
  return Array.isArray(aud) && aud.some((a) => a === audience);
}

export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, now: number): Result<JwtClaims> {
  const { exp, nbf, sub, groups } = payload;
  if (exp === undefined) return fail("exp claim missing");
  if (!isNumericDate(exp)) return fail("exp claim must be a number");
  if (Math.abs(exp) > MAX_NUMERIC_DATE) return fail("exp claim is out of range");
  if (now >= exp + (rules.expLeewaySeconds ?? rules.leewaySeconds)) return err("E_TOKEN_EXPIRED", "token expired");
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) return fail("nbf claim must be a number");
    if (nbf > now + rules.leewaySeconds) return fail("token not valid yet (nbf)");
  }
  if (rules.issuer !== undefined && payload.iss !== rules.issuer) return fail("wrong issuer");
  if (rules.audience !== undefined && !hasAudience(payload.aud, rules.audience)) return fail("wrong audience");

  if (sub === undefined) return fail("sub claim missing");
  const uid = validateUid(sub);
  if (!uid.ok) return fail(`sub claim: ${uid.message}`);

  if (groups !== undefined) {
    if (!Array.isArray(groups)) return fail("groups claim must be an array of strings");
    if (groups.length > MAX_GROUPS_CLAIM) return fail(`groups claim has more than ${MAX_GROUPS_CLAIM} entries`);
    for (const g of groups) {
      const group = validateGroup(g);
      if (!group.ok) return fail(`groups claim: ${group.message}`);
    }
  }
  return ok(payload as JwtClaims);
}
