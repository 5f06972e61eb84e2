// Generators of JWTs for a server holding one HS256 secret, each with the outcome docs/auth.md
// promises for it ("Token rules", checked in order, the first failure answers): valid tokens,
// mutated ones (any change to a signed token must be refused), `=` padding, extra or missing
// dots, huge parts, alg none / confusion, typ and crit, exp/nbf edges, non-object and deep
// payloads — most of them properly signed, so the claim rules themselves are reached.
import { encodeBase64Url } from "../../src/auth/base64url.ts";
import { nameProblems, uidProblems, wireString } from "./app-model.ts";
import {
  type Rng, anyString, deepText, jsonText, mutateString, mutateText, nameString, objectText, wrongValueText,
} from "./prng.ts";

export type TokenOutcome =
  | { kind: "accept"; uid: string; groups: string[] }
  | { kind: "refuse"; code: "E_AUTH_FAILED" | "E_TOKEN_EXPIRED"; messages: string[] }
  | { kind: "either" }; // exp or nbf within seconds of now: the clock decides

export interface TokenCase { token: string; outcome: TokenOutcome; recipe: string }

const enc = new TextEncoder();
const b64 = (text: string) => encodeBase64Url(enc.encode(text));
const s = JSON.stringify;

export class Signer {
  private constructor(private readonly key: CryptoKey, private readonly other: CryptoKey) {}

  static async create(secret: string): Promise<Signer> {
    const imp = (k: string) => crypto.subtle.importKey("raw", enc.encode(k), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Signer(await imp(secret), await imp(secret + "-not-the-server's"));
  }

  async sign(input: string, right = true): Promise<string> {
    const sig = await crypto.subtle.sign("HMAC", right ? this.key : this.other, enc.encode(input));
    return encodeBase64Url(new Uint8Array(sig));
  }

  /** A valid token for `sub` (header and payload given as JSON text). */
  async token(headerText: string, payloadText: string, right = true): Promise<string> {
    const input = `${b64(headerText)}.${b64(payloadText)}`;
    return `${input}.${await this.sign(input, right)}`;
  }
}

const now = () => Math.floor(Date.now() / 1000);
const HEADER = '{"alg":"HS256","typ":"JWT"}';

function refuse(messages: string[], code: "E_AUTH_FAILED" | "E_TOKEN_EXPIRED" = "E_AUTH_FAILED"): TokenOutcome {
  return { kind: "refuse", code, messages };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** docs/auth.md "Token rules" 3–5 for a well-formed, properly encoded token. */
export function expectedOutcome(headerText: string, payloadText: string, signedRight: boolean, token: string): TokenOutcome {
  if (token.length > 8192) return refuse(["token too long"]);
  const header = parseObject(headerText);
  const payload = parseObject(payloadText);
  if (!header || !payload) return refuse(["malformed token"]);
  const { alg, typ } = header;
  if (alg === undefined) return refuse(["alg missing"]);
  if (typeof alg !== "string") return refuse(["alg must be a string"]);
  if (alg.toLowerCase() === "none") return refuse(["alg none is not allowed"]);
  if (alg !== "HS256") return refuse([`${/^[A-Za-z0-9]{1,16}$/.test(alg) ? `alg ${alg}` : "alg"} does not match the configured HS256 secret`]);
  if (typ !== undefined && (typeof typ !== "string" || typ.toUpperCase() !== "JWT")) return refuse(["typ must be JWT"]);
  if (header.crit !== undefined) return refuse(["crit header is not supported"]);
  if (!signedRight) return refuse(["bad signature"]);
  const { exp, nbf, sub, groups } = payload;
  const t = now();
  if (exp === undefined) return refuse(["exp claim missing"]);
  if (typeof exp !== "number" || !Number.isFinite(exp)) return refuse(["exp claim must be a number"]);
  if (Math.abs(exp) > 8.64e12) return refuse(["exp claim is out of range"]);
  // Within seconds of now the clock decides. Within --jwt-leeway (5 s) in the past the server
  // passes exp to the later rules and refuses a token that breaks one of them with that rule's
  // message, not "token expired" (docs/auth.md: the leeway has no effect on exp): both refuse.
  if (exp > t - 5 - 3 && exp < t + 3) return { kind: "either" };
  if (exp <= t) return refuse(["token expired"], "E_TOKEN_EXPIRED");
  if (nbf !== undefined) {
    if (typeof nbf !== "number" || !Number.isFinite(nbf)) return refuse(["nbf claim must be a number"]);
    if (Math.abs(nbf - (t + 5)) <= 3) return { kind: "either" }; // --jwt-leeway 5
    if (nbf > t + 5) return refuse(["token not valid yet (nbf)"]);
  }
  if (sub === undefined) return refuse(["sub claim missing"]);
  const subProblems = uidProblems(sub);
  if (subProblems.length > 0) return refuse(subProblems.map((p) => `sub claim: ${p}`));
  if (groups !== undefined) {
    if (!Array.isArray(groups)) return refuse(["groups claim must be an array of strings"]);
    if (groups.length > 256) return refuse(["groups claim has more than 256 entries"]);
    for (const g of groups) {
      const problems = nameProblems("group", g);
      if (problems.length > 0) return refuse(problems.map((p) => `groups claim: ${p}`));
    }
  }
  return { kind: "accept", uid: sub as string, groups: (groups as string[] | undefined) ?? [] };
}

function headerText(r: Rng): string {
  return r.weighted<() => string>([
    [10, () => HEADER],
    [2, () => s({ alg: "HS256" })],
    [1, () => s({ alg: r.pick(["none", "None", "NONE", "nOnE"]), typ: "JWT" })],
    [1, () => s({ alg: r.pick(["HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "", "HS256 ", "HS256\u0000", "a".repeat(17)]), typ: "JWT" })],
    [1, () => objectText([["alg", wrongValueText(r)], ["typ", s("JWT")]])],
    [1, () => s({ typ: "JWT" })],
    [1, () => s({ alg: "HS256", typ: r.pick(["jwt", "JWS", "at+jwt", "", "JWT "]) })],
    [1, () => objectText([["alg", s("HS256")], ["typ", wrongValueText(r)]])],
    [1, () => s({ alg: "HS256", crit: r.pick([["exp"], [], "b64", null]) })],
    [1, () => objectText([["alg", s("HS256")], ["kid", jsonText(r)], ["alg", s(r.pick(["HS256", "none"]))]])], // duplicate alg
    [1, () => r.pick(["[]", '"HS256"', "1", "null", "{", ""])],
  ])();
}

function numberClaim(r: Rng, base: number): string {
  return r.weighted<() => string>([
    [8, () => String(base)],
    [1, () => r.pick(["1e400", "-1e400", "-0", "0", "1e308", "9007199254740993", "1e20", "-1", String(base + 0.5), `${base}.000001`])],
    [1, () => String(now() + r.int(-10, 10))],
    [1, () => wrongValueText(r)],
  ])();
}

function payloadText(r: Rng, sub: string): string {
  const t = now();
  const entries: Array<[string, string]> = [];
  if (r.chance(0.95)) entries.push(["sub", r.chance(0.85) ? s(sub) : r.chance(0.5) ? s(r.pick(["all", "", "a:b", "x\u0001", "s".repeat(129), "😀".repeat(64)])) : wrongValueText(r)]);
  if (r.chance(0.95)) entries.push(["exp", numberClaim(r, r.chance(0.9) ? t + 600 : t - 600)]);
  if (r.chance(0.2)) entries.push(["nbf", numberClaim(r, r.chance(0.8) ? t - 10 : t + 600)]);
  if (r.chance(0.2)) {
    entries.push(["groups", r.weighted<() => string>([
      [4, () => s(Array.from({ length: r.int(0, 3) }, (_, i) => `fzg${i}`))],
      [1, () => s(Array.from({ length: r.pick([256, 257]) }, (_, i) => `g${i}`))],
      [1, () => s(["ok", r.pick(["", "a:b", "\u0000", "g".repeat(129)])])],
      [1, () => wrongValueText(r)],
    ])()]);
  }
  if (r.chance(0.1)) entries.push(["deep", deepText(r, r.pick([10, 100, 2000]))]);
  if (r.chance(0.1)) entries.push([nameString(r), jsonText(r)]);
  if (r.chance(0.05)) entries.push(["exp", numberClaim(r, t - 600)]); // duplicate: the last one counts
  const text = objectText(r.chance(0.1) ? entries.reverse() : entries);
  return r.weighted<() => string>([
    [20, () => text],
    [1, () => r.pick(["[]", '"x"', "1", "null", "", "{"])],
    [1, () => mutateText(r, text)],
  ])();
}

/** Corrupts one part's encoding or the token's shape; every result must be refused. */
function breakShape(r: Rng, token: string): [string, string[] | null] {
  const parts = token.split(".");
  const i = r.int(0, 2);
  return r.pick<() => [string, string[] | null]>([
    () => { parts[i] += r.pick(["=", "==", "==="]); return [parts.join("."), ["malformed token"]]; },
    () => [token + ".", ["malformed token"]],
    () => [token + "." + parts[2], ["malformed token"]],
    () => [parts.slice(0, 2).join("."), ["malformed token"]],
    () => [parts.join(".."), ["malformed token"]],
    () => r.pick<[string, string[]]>([["", ["malformed token"]], [".", ["malformed token"]], ["..", ["malformed token"]],
      ["...", ["malformed token"]], ["a.b.c", ["malformed token"]], ["e30.e30.", ["alg missing"]], ["e30.e30.e30", ["alg missing"]]]),
    () => { parts[i] = parts[i]!.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/")); return [parts.join("."), null]; },
    () => { parts[i] += "A".repeat(r.pick([8200, 9000, 20_000])); return [parts.join("."), ["token too long"]]; },
    () => { parts[i] = " " + parts[i]; return [parts.join("."), ["malformed token"]]; },
  ])();
}

/** One token and what the server must make of it. `sub` is the uid a valid one carries. */
export async function tokenCase(r: Rng, signer: Signer, sub: string): Promise<TokenCase> {
  const style = r.weighted<string>([[3, "valid"], [3, "mutated"], [2, "shape"], [6, "crafted"], [1, "garbage"]]);
  const valid = () => signer.token(HEADER, s({ sub, exp: now() + 600 }));
  if (style === "valid") return { token: await valid(), outcome: { kind: "accept", uid: sub, groups: [] }, recipe: "valid" };
  if (style === "mutated") {
    const good = await valid();
    const bad = r.chance(0.5) ? mutateString(r, good) : mutateText(r, good);
    // A signed token changed in any way is refused (strict canonical base64url, HMAC).
    const outcome: TokenOutcome = bad === good ? { kind: "accept", uid: sub, groups: [] }
      : bad.length > 8192 ? refuse(["token too long"]) : refuse([]);
    return { token: bad, outcome, recipe: `mutated ${JSON.stringify(bad.slice(0, 120))}` };
  }
  if (style === "shape") {
    const good = await valid();
    const [bad, messages] = breakShape(r, good);
    const outcome: TokenOutcome = bad === good ? { kind: "accept", uid: sub, groups: [] }
      : bad.length > 8192 ? refuse(["token too long"]) : refuse(messages ?? []);
    return { token: bad, outcome, recipe: `shape ${JSON.stringify(bad.slice(0, 120))}` };
  }
  if (style === "garbage") {
    const bad = anyString(r, 60);
    return { token: bad, outcome: refuse(bad.length > 8192 ? ["token too long"] : []), recipe: `garbage ${JSON.stringify(bad.slice(0, 120))}` };
  }
  const h = headerText(r);
  const p = payloadText(r, sub);
  const right = r.chance(0.9);
  const token = await signer.token(h, p, right);
  // The server decodes the bytes: lone surrogates arrive as U+FFFD, a leading BOM is dropped.
  const wire = (t: string) => wireString(t).replace(/^\ufeff/, "");
  return { token, outcome: expectedOutcome(wire(h), wire(p), right, token), recipe: `crafted header ${h.slice(0, 120)} payload ${p.slice(0, 200)}${right ? "" : " (wrong key)"}` };
}

/** Every refusal message docs/auth.md lists (prefixes for the parametrised ones). */
export function documentedRefusal(code: string, message: string): boolean {
  if (code === "E_TOKEN_EXPIRED") return message === "token expired";
  if (code !== "E_AUTH_FAILED") return false;
  const exact = ["token too long", "malformed token", "alg missing", "alg must be a string", "alg none is not allowed",
    "typ must be JWT", "crit header is not supported", "bad signature", "exp claim missing", "exp claim must be a number", "exp claim is out of range",
    "nbf claim must be a number", "token not valid yet (nbf)", "wrong issuer", "wrong audience", "sub claim missing",
    "groups claim must be an array of strings", "groups claim has more than 256 entries", "auth needs a string `token`",
    "refresh token is for another uid"];
  return exact.includes(message) || /^alg( [A-Za-z0-9]{1,16})? does not match the configured HS256 secret$/.test(message) ||
    message.startsWith("sub claim: ") || message.startsWith("groups claim: ");
}
