// JWT verification with real keys: HS256, RS256 (PEM, PKCS#1 PEM, JWK), ES256 (PEM, JWK);
// forged, tampered, expired and garbage tokens; exact start-up errors for bad key material.
import { describe, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey, sign as nodeSign } from "node:crypto";
import { type JwtOptions, type JwtVerifier, MAX_TOKEN_LENGTH, createJwtVerifier } from "../../src/auth/jwt.ts";
import type { Result } from "../../src/core/result.ts";
import {
  TEST_SECRET, b64url, b64urlJson, claims, generateEc, generateRsa, nowSeconds, signES256, signHS256,
  signRS256, toPem, unsigned, withDerSignature,
} from "../jwt-sign.ts";

function must<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

async function verifier(opts: Partial<JwtOptions>): Promise<JwtVerifier> {
  return must(await createJwtVerifier({ leewaySeconds: 0, ...opts }));
}

/** The error of createJwtVerifier, as { code, message, field }. */
async function startError(opts: Partial<JwtOptions>) {
  const r = await createJwtVerifier({ leewaySeconds: 0, ...opts });
  if (r.ok) throw new Error("expected createJwtVerifier to fail");
  return { code: r.code, message: r.message, field: r.field };
}

async function failure(v: JwtVerifier, token: string, now?: number) {
  const r = await v.verify(token, now);
  if (r.ok) throw new Error(`expected ${JSON.stringify(token.slice(0, 60))} to be refused`);
  return { code: r.code, message: r.message };
}

const authFailed = (message: string) => ({ code: "E_AUTH_FAILED" as const, message });
const keyError = (message: string, field = "publicKey") => ({ code: "E_BAD_PARAMS" as const, message, field });
const expired = { code: "E_TOKEN_EXPIRED" as const, message: "token expired" };

const rsa = await generateRsa();
const rsaOther = await generateRsa();
const ec = await generateEc();
const ecOther = await generateEc();

const hs = await verifier({ secret: TEST_SECRET });
const rsPem = await verifier({ publicKey: rsa.publicPem });
const rsJwk = await verifier({ publicKey: rsa.publicJwk });
const esPem = await verifier({ publicKey: ec.publicPem });
const esJwk = await verifier({ publicKey: ec.publicJwk });

describe("valid tokens", () => {
  test("HS256 passes and returns the claims", async () => {
    expect(hs.alg).toBe("HS256");
    const c = claims({ groups: ["room-1", "staff"], tenant: "acme" });
    const r = must(await hs.verify(await signHS256(c, TEST_SECRET)));
    expect(r).toEqual({ sub: "42", exp: c.exp as number, groups: ["room-1", "staff"], tenant: "acme" });
  });

  test("RS256 with a PEM key and with a JWK key", async () => {
    expect(rsPem.alg).toBe("RS256");
    expect(rsJwk.alg).toBe("RS256");
    const token = await signRS256(claims({ sub: "user-7" }), rsa.privateKey);
    expect(must(await rsPem.verify(token)).sub).toBe("user-7");
    expect(must(await rsJwk.verify(token)).sub).toBe("user-7");
  });

  test("RS256 with a PKCS#1 PEM (BEGIN RSA PUBLIC KEY)", async () => {
    const pkcs1 = createPublicKey(rsa.publicPem).export({ type: "pkcs1", format: "pem" }).toString();
    expect(pkcs1).toContain("BEGIN RSA PUBLIC KEY");
    const v = await verifier({ publicKey: pkcs1 });
    expect(v.alg).toBe("RS256");
    expect(must(await v.verify(await signRS256(claims(), rsa.privateKey))).sub).toBe("42");
  });

  test("ES256 with a PEM key and with a JWK key", async () => {
    expect(esPem.alg).toBe("ES256");
    expect(esJwk.alg).toBe("ES256");
    const token = await signES256(claims({ groups: [] }), ec.privateKey);
    expect(must(await esPem.verify(token)).groups).toEqual([]);
    expect(must(await esJwk.verify(token)).groups).toEqual([]);
  });

  test("ES256 signed by node:crypto (ieee-p1363) passes: an independent signer", async () => {
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", ec.privateKey);
    const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    const input = `${b64urlJson({ alg: "ES256", typ: "JWT" })}.${b64urlJson(claims())}`;
    const sig = nodeSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    expect(must(await esPem.verify(`${input}.${b64url(sig)}`)).sub).toBe("42");
    const der = nodeSign("sha256", Buffer.from(input), { key, dsaEncoding: "der" });
    expect(await failure(esPem, `${input}.${b64url(der)}`)).toEqual(authFailed("bad signature"));
  });

  test("typ may be absent or any case of JWT; kid and iat are ignored", async () => {
    const now = nowSeconds();
    expect((await hs.verify(await signHS256(claims(), TEST_SECRET, { typ: undefined }))).ok).toBe(true);
    expect((await hs.verify(await signHS256(claims(), TEST_SECRET, { typ: "jwt" }))).ok).toBe(true);
    const t = await signHS256(claims({ iat: now + 9999 }), TEST_SECRET, { kid: "k1" });
    expect((await hs.verify(t)).ok).toBe(true);
    const t2 = await signHS256(claims({ iat: "yesterday" }), TEST_SECRET);
    expect((await hs.verify(t2)).ok).toBe(true);
  });
});

describe("wrong keys and forged tokens", () => {
  test("another HS256 secret", async () => {
    const token = await signHS256(claims(), `${TEST_SECRET}-other`);
    expect(await failure(hs, token)).toEqual(authFailed("bad signature"));
  });

  test("another RSA key, another EC key", async () => {
    expect(await failure(rsPem, await signRS256(claims(), rsaOther.privateKey))).toEqual(authFailed("bad signature"));
    expect(await failure(rsJwk, await signRS256(claims(), rsaOther.privateKey))).toEqual(authFailed("bad signature"));
    expect(await failure(esPem, await signES256(claims(), ecOther.privateKey))).toEqual(authFailed("bad signature"));
  });

  test("a key embedded in the header (jwk) is not trusted", async () => {
    const token = await signRS256(claims(), rsaOther.privateKey, { jwk: rsaOther.jwk, jku: "https://evil/jwks" });
    expect(await failure(rsPem, token)).toEqual(authFailed("bad signature"));
  });

  test("alg none is refused by every verifier, in any case, signature or not", async () => {
    for (const v of [hs, rsPem, esJwk]) {
      for (const alg of ["none", "None", "NONE"]) {
        expect(await failure(v, unsigned({ alg, typ: "JWT" }, claims()))).toEqual(authFailed("alg none is not allowed"));
        expect(await failure(v, unsigned({ alg }, claims(), "c2ln"))).toEqual(authFailed("alg none is not allowed"));
      }
    }
  });

  test("key confusion: HS256 signed with the public key text is refused by RS256/ES256", async () => {
    const withPem = await signHS256(claims(), rsa.publicPem);
    expect(await failure(rsPem, withPem)).toEqual(authFailed("alg HS256 does not match the configured RS256 key"));
    const withJwk = await signHS256(claims(), rsa.publicJwk);
    expect(await failure(rsJwk, withJwk)).toEqual(authFailed("alg HS256 does not match the configured RS256 key"));
    const withEcPem = await signHS256(claims(), ec.publicPem);
    expect(await failure(esPem, withEcPem)).toEqual(authFailed("alg HS256 does not match the configured ES256 key"));
  });

  test("and the other way round: RS256/ES256 tokens against an HS256 secret, ES256 against RSA", async () => {
    const rs = await signRS256(claims(), rsa.privateKey);
    expect(await failure(hs, rs)).toEqual(authFailed("alg RS256 does not match the configured HS256 secret"));
    const es = await signES256(claims(), ec.privateKey);
    expect(await failure(hs, es)).toEqual(authFailed("alg ES256 does not match the configured HS256 secret"));
    expect(await failure(rsPem, es)).toEqual(authFailed("alg ES256 does not match the configured RS256 key"));
    expect(await failure(esPem, rs)).toEqual(authFailed("alg RS256 does not match the configured ES256 key"));
  });

  test("bad headers: missing or odd alg, typ, crit", async () => {
    expect(await failure(hs, unsigned({ typ: "JWT" }, claims(), "c2ln"))).toEqual(authFailed("alg missing"));
    expect(await failure(hs, unsigned({ alg: 256 }, claims(), "c2ln"))).toEqual(authFailed("alg must be a string"));
    expect(await failure(hs, unsigned({ alg: "x".repeat(300) }, claims(), "c2ln")))
      .toEqual(authFailed("alg does not match the configured HS256 secret"));
    expect(await failure(hs, unsigned({ alg: "PS256" }, claims(), "c2ln")))
      .toEqual(authFailed("alg PS256 does not match the configured HS256 secret"));
    expect(await failure(hs, await signHS256(claims(), TEST_SECRET, { typ: "JWS" }))).toEqual(authFailed("typ must be JWT"));
    expect(await failure(hs, await signHS256(claims(), TEST_SECRET, { typ: 1 }))).toEqual(authFailed("typ must be JWT"));
    expect(await failure(hs, await signHS256(claims(), TEST_SECRET, { crit: ["exp"] })))
      .toEqual(authFailed("crit header is not supported"));
  });

  test("tampered payload", async () => {
    for (const [v, token] of [
      [hs, await signHS256(claims(), TEST_SECRET)],
      [rsPem, await signRS256(claims(), rsa.privateKey)],
      [esPem, await signES256(claims(), ec.privateKey)],
    ] as const) {
      const [h, , s] = token.split(".");
      const forged = `${h}.${b64urlJson(claims({ sub: "admin" }))}.${s}`;
      expect(await failure(v, forged)).toEqual(authFailed("bad signature"));
    }
  });

  test("tampered signature: no other last character, and no flipped byte, verifies", async () => {
    const token = await signHS256(claims(), TEST_SECRET);
    const ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (const c of ALPHA) {
      if (c === token.at(-1)) continue;
      expect((await hs.verify(token.slice(0, -1) + c)).ok).toBe(false);
    }
    for (const [v, t] of [[rsPem, await signRS256(claims(), rsa.privateKey)], [esPem, await signES256(claims(), ec.privateKey)]] as const) {
      const [h, p, s] = t.split(".") as [string, string, string];
      const sig = new Uint8Array(Buffer.from(s, "base64url"));
      sig[10]! ^= 0x01;
      expect(await failure(v, `${h}.${p}.${b64url(sig)}`)).toEqual(authFailed("bad signature"));
    }
  });

  test("ES256 with a DER-encoded signature is refused, not crashed on", async () => {
    const token = await signES256(claims(), ec.privateKey);
    expect(await failure(esPem, withDerSignature(token))).toEqual(authFailed("bad signature"));
    expect(await failure(esJwk, withDerSignature(token))).toEqual(authFailed("bad signature"));
  });

  test("every single-character mutation of a valid token is refused", async () => {
    const token = await signHS256(claims(), TEST_SECRET);
    for (let i = 0; i < token.length; i++) {
      for (const c of ["A", ".", "_", "é", "="]) {
        if (token[i] === c) continue;
        expect((await hs.verify(token.slice(0, i) + c + token.slice(i + 1))).ok).toBe(false);
      }
    }
  });
});

describe("malformed tokens never throw", () => {
  test("truncated tokens", async () => {
    const token = await signHS256(claims(), TEST_SECRET);
    const [h, p] = token.split(".");
    expect(await failure(hs, `${h}.${p}`)).toEqual(authFailed("malformed token"));
    expect(await failure(hs, `${h}.${p}.`)).toEqual(authFailed("bad signature"));
    // 40 of the 43 signature characters: 30 whole bytes, so it decodes, and is the wrong length.
    expect(await failure(hs, token.slice(0, -3))).toEqual(authFailed("bad signature"));
    // 39 characters leave 2 stray bits: not canonical base64url, or the wrong length.
    expect((await hs.verify(token.slice(0, -4))).ok).toBe(false);
    expect(await failure(hs, token.slice(0, 20))).toEqual(authFailed("malformed token"));
    expect(await failure(hs, `${h}`)).toEqual(authFailed("malformed token"));
  });

  test("= padding in any part is a malformed token, judged before the signature (docs/auth.md rule 2)", async () => {
    // A 2-byte payload base64url-encodes to 3 characters, so a padded form exists: "e30=" for {}.
    const token = await signHS256(claims(), TEST_SECRET);
    const [h, p, s] = token.split(".") as [string, string, string];
    const pad = (x: string) => x + "=".repeat((4 - (x.length % 4)) % 4 || 1);
    for (const forged of [`${h}.${pad(p)}.${s}`, `${pad(h)}.${p}.${s}`, `${h}.${p}.${pad(s)}`, `${h}.e30=.${s}`]) {
      for (const v of [hs, rsPem, esPem]) expect(await failure(v, forged)).toEqual(authFailed("malformed token"));
    }
    // The same token unpadded still verifies: the refusal is about the encoding alone.
    expect((await hs.verify(token)).ok).toBe(true);
  });

  test("an exp past the Date range is refused (exp * 1000 would be Infinity)", async () => {
    for (const exp of [1e308, 8.64e12 + 1, -1e20]) {
      expect(await failure(hs, await signHS256(claims({ exp }), TEST_SECRET))).toEqual(authFailed("exp claim is out of range"));
    }
    expect((await hs.verify(await signHS256(claims({ exp: 8.64e12 }), TEST_SECRET))).ok).toBe(true);
  });

  test("expLeewaySeconds 0: a token just past exp is expired before any other claim is judged", async () => {
    const strict = await verifier({ secret: TEST_SECRET, leewaySeconds: 5, expLeewaySeconds: 0 });
    const now = nowSeconds();
    const token = await signHS256(claims({ exp: now - 2, sub: "all" }), TEST_SECRET);
    expect(await failure(strict, token, now)).toEqual(expired);
    // The shared leeway still lets it pass the exp check (and then fail on sub).
    const lenient = await verifier({ secret: TEST_SECRET, leewaySeconds: 5 });
    expect((await failure(lenient, token, now)).message).toStartWith("sub claim:");
  });

  test("garbage strings", async () => {
    const samples = [
      "", "abc", "a.b.c", "....", "..", ".", "€.€.€", "%%%.%%%.%%%", "null", "[]", "{}",
      "eyJhbGciOiJIUzI1NiJ9=.e30=.c2ln", "eyJhbGciOiJIUzI1NiJ9 .e30.c2ln", " eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
      `${b64urlJson("[1,2]")}.e30.c2ln`, `${b64urlJson("null")}.e30.c2ln`, `${b64urlJson("not json")}.e30.c2ln`,
      `${b64url(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]))}.e30.c2ln`, "\u0000.\u0000.\u0000", "a.b.c.d",
    ];
    for (const s of samples) {
      for (const v of [hs, rsPem, esPem]) expect(await failure(v, s)).toEqual(authFailed("malformed token"));
    }
  });

  test("non-string tokens from a careless caller", async () => {
    for (const bad of [undefined, null, 42, {}, ["a.b.c"], new Uint8Array(3)]) {
      expect(await failure(hs, bad as unknown as string)).toEqual(authFailed("malformed token"));
    }
  });

  test("validly signed payloads that are not JSON objects", async () => {
    const key = await crypto.subtle.importKey(
      "raw", new TextEncoder().encode(TEST_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
    );
    const h = b64urlJson({ alg: "HS256", typ: "JWT" });
    for (const p of [b64urlJson("[1]"), b64urlJson("null"), b64urlJson("42"), b64urlJson("{bad"), "", b64url(new Uint8Array([0xc3]))]) {
      const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${h}.${p}`));
      expect(await failure(hs, `${h}.${p}.${b64url(sig)}`)).toEqual(authFailed("malformed token"));
    }
  });

  test("random garbage of every shape", async () => {
    const chars = "ABCxyz019-_.+/=% \n{}\"é€\u0000";
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let i = 0; i < 400; i++) {
      let s = "";
      const len = rand(200);
      for (let j = 0; j < len; j++) s += chars[rand(chars.length)];
      expect((await hs.verify(s)).ok).toBe(false);
      expect((await esPem.verify(s)).ok).toBe(false);
    }
  });

  test("too long: the cap is MAX_TOKEN_LENGTH (8 KiB)", async () => {
    expect(MAX_TOKEN_LENGTH).toBe(8192);
    expect(await failure(hs, "x".repeat(1_000_000))).toEqual(authFailed("token too long"));
    const base = (await signHS256(claims({ pad: "" }), TEST_SECRET)).length;
    const fits = await signHS256(claims({ pad: "p".repeat(Math.floor(((MAX_TOKEN_LENGTH - base) * 3) / 4) - 2) }), TEST_SECRET);
    expect(fits.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(fits.length).toBeGreaterThan(MAX_TOKEN_LENGTH - 8);
    expect((await hs.verify(fits)).ok).toBe(true);
    const over = await signHS256(claims({ pad: "p".repeat(6200) }), TEST_SECRET);
    expect(over.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expect(await failure(hs, over)).toEqual(authFailed("token too long"));
  });
});

const lenient = await verifier({ secret: TEST_SECRET, leewaySeconds: 60 });

describe("time claims", () => {
  const now = 1_800_000_000;

  test("expired, at exp exactly, within and beyond the leeway", async () => {
    expect(await failure(hs, await signHS256(claims({ exp: now - 1 }), TEST_SECRET), now)).toEqual(expired);
    expect(await failure(hs, await signHS256(claims({ exp: now }), TEST_SECRET), now)).toEqual(expired);
    expect((await hs.verify(await signHS256(claims({ exp: now + 1 }), TEST_SECRET), now)).ok).toBe(true);
    expect((await lenient.verify(await signHS256(claims({ exp: now - 30 }), TEST_SECRET), now)).ok).toBe(true);
    expect(await failure(lenient, await signHS256(claims({ exp: now - 61 }), TEST_SECRET), now)).toEqual(expired);
  });

  test("verify() defaults to the wall clock", async () => {
    expect(await failure(hs, await signHS256(claims({ exp: nowSeconds() - 5 }), TEST_SECRET))).toEqual(expired);
    expect((await hs.verify(await signHS256(claims({ exp: nowSeconds() + 5 }), TEST_SECRET))).ok).toBe(true);
  });

  test("exp missing or not a number", async () => {
    expect(await failure(hs, await signHS256({ sub: "42" }, TEST_SECRET), now)).toEqual(authFailed("exp claim missing"));
    for (const exp of [String(now + 100), null, true, [now + 100]]) {
      expect(await failure(hs, await signHS256(claims({ exp }), TEST_SECRET), now)).toEqual(authFailed("exp claim must be a number"));
    }
  });

  test("nbf in the future, within the leeway, or not a number", async () => {
    const t = (nbf: unknown) => signHS256(claims({ exp: now + 3600, nbf }), TEST_SECRET);
    expect(await failure(hs, await t(now + 100), now)).toEqual(authFailed("token not valid yet (nbf)"));
    expect((await hs.verify(await t(now), now)).ok).toBe(true);
    expect((await lenient.verify(await t(now + 30), now)).ok).toBe(true);
    expect(await failure(lenient, await t(now + 61), now)).toEqual(authFailed("token not valid yet (nbf)"));
    expect(await failure(hs, await t("soon"), now)).toEqual(authFailed("nbf claim must be a number"));
  });
});

describe("identity claims", () => {
  const t = (c: Record<string, unknown>) => signHS256(c, TEST_SECRET);

  test("sub missing, invalid, reserved", async () => {
    expect(await failure(hs, await t({ exp: nowSeconds() + 60 }))).toEqual(authFailed("sub claim missing"));
    expect(await failure(hs, await t(claims({ sub: "a:b" })))).toEqual(authFailed("sub claim: uid must not contain ':'"));
    expect(await failure(hs, await t(claims({ sub: "all" })))).toEqual(authFailed('sub claim: uid "all" is reserved for broadcast'));
    expect(await failure(hs, await t(claims({ sub: 42 })))).toEqual(authFailed("sub claim: uid must be a string"));
    expect(await failure(hs, await t(claims({ sub: "" })))).toEqual(authFailed("sub claim: uid must not be empty"));
    expect(await failure(hs, await t(claims({ sub: "a\nb" })))).toEqual(authFailed("sub claim: uid must not contain control characters"));
    expect(await failure(hs, await t(claims({ sub: "u".repeat(129) })))).toEqual(authFailed("sub claim: uid is longer than 128 characters"));
  });

  test("groups: not an array, bad entries, too many; 256 and none are fine", async () => {
    expect(await failure(hs, await t(claims({ groups: "staff" })))).toEqual(authFailed("groups claim must be an array of strings"));
    expect(await failure(hs, await t(claims({ groups: { a: 1 } })))).toEqual(authFailed("groups claim must be an array of strings"));
    expect(await failure(hs, await t(claims({ groups: ["ok", 1] })))).toEqual(authFailed("groups claim: group must be a string"));
    expect(await failure(hs, await t(claims({ groups: ["a:b"] })))).toEqual(authFailed("groups claim: group must not contain ':'"));
    expect(await failure(hs, await t(claims({ groups: [""] })))).toEqual(authFailed("groups claim: group must not be empty"));
    const many = Array.from({ length: 257 }, (_, i) => `g${i}`);
    expect(await failure(hs, await t(claims({ groups: many })))).toEqual(authFailed("groups claim has more than 256 entries"));
    expect(must(await hs.verify(await t(claims({ groups: many.slice(0, 256) })))).groups).toHaveLength(256);
    expect("groups" in must(await hs.verify(await t(claims())))).toBe(false);
  });

  test("issuer: match, mismatch, missing", async () => {
    const v = await verifier({ secret: TEST_SECRET, issuer: "https://auth.example" });
    expect((await v.verify(await t(claims({ iss: "https://auth.example" })))).ok).toBe(true);
    expect(await failure(v, await t(claims({ iss: "https://evil.example" })))).toEqual(authFailed("wrong issuer"));
    expect(await failure(v, await t(claims()))).toEqual(authFailed("wrong issuer"));
    expect(await failure(v, await t(claims({ iss: ["https://auth.example"] })))).toEqual(authFailed("wrong issuer"));
    expect((await hs.verify(await t(claims({ iss: "anyone" })))).ok).toBe(true);
  });

  test("audience: string or array match, mismatch, missing", async () => {
    const v = await verifier({ secret: TEST_SECRET, audience: "pushgate" });
    expect((await v.verify(await t(claims({ aud: "pushgate" })))).ok).toBe(true);
    expect((await v.verify(await t(claims({ aud: ["api", "pushgate"] })))).ok).toBe(true);
    expect(await failure(v, await t(claims({ aud: "api" })))).toEqual(authFailed("wrong audience"));
    expect(await failure(v, await t(claims({ aud: ["api", "web"] })))).toEqual(authFailed("wrong audience"));
    expect(await failure(v, await t(claims({ aud: [["pushgate"]] })))).toEqual(authFailed("wrong audience"));
    expect(await failure(v, await t(claims()))).toEqual(authFailed("wrong audience"));
    expect((await hs.verify(await t(claims({ aud: "whatever" })))).ok).toBe(true);
  });

  test("every refusal fits a WebSocket close reason with its code prefix (≤ 123 bytes)", async () => {
    const v = await verifier({ secret: TEST_SECRET, issuer: "i", audience: "a" });
    const tokens = [
      await t(claims({ sub: "u".repeat(200), iss: "i", aud: "a" })),
      await t(claims({ groups: ["g".repeat(500)], iss: "i", aud: "a" })),
      unsigned({ alg: "none".repeat(50) }, claims()),
      unsigned({ alg: "ABCDEFGHIJKLMNOP" }, claims()),
    ];
    for (const token of tokens) {
      const { code, message } = await failure(v, token);
      expect(new TextEncoder().encode(`${code}: ${message}`).length).toBeLessThanOrEqual(123);
    }
  });
});

describe("createJwtVerifier start-up errors", () => {
  test("exactly one of secret and publicKey", async () => {
    expect(await startError({ secret: TEST_SECRET, publicKey: rsa.publicPem }))
      .toEqual({ code: "E_BAD_PARAMS", message: "secret and publicKey are both set; give exactly one", field: undefined });
    expect(await startError({}))
      .toEqual({ code: "E_BAD_PARAMS", message: "neither secret nor publicKey is set; give exactly one", field: undefined });
  });

  test("bad options", async () => {
    expect(await startError({ secret: TEST_SECRET, leewaySeconds: -1 }))
      .toEqual(keyError("leewaySeconds must be a non-negative number", "leewaySeconds"));
    expect(await startError({ secret: TEST_SECRET, leewaySeconds: Number.NaN }))
      .toEqual(keyError("leewaySeconds must be a non-negative number", "leewaySeconds"));
    expect(await startError({ secret: TEST_SECRET, issuer: "" })).toEqual(keyError("issuer must not be empty", "issuer"));
    expect(await startError({ secret: TEST_SECRET, audience: "" })).toEqual(keyError("audience must not be empty", "audience"));
  });

  test("bad HS256 secrets", async () => {
    expect(await startError({ secret: "" })).toEqual(keyError("secret must not be empty", "secret"));
    expect(await startError({ secret: "hunter2" })).toEqual(keyError("secret is 7 bytes; HS256 needs at least 32", "secret"));
    expect(await startError({ secret: rsa.publicPem }))
      .toEqual(keyError("secret looks like a PEM key; give it as the public key for RS256/ES256", "secret"));
  });

  test("broken PEM text", async () => {
    const body = rsa.publicPem.split("\n").slice(1, -2).join("\n");
    expect(await startError({ publicKey: "" })).toEqual(keyError("public key must not be empty"));
    expect(await startError({ publicKey: "ssh-rsa AAAAB3NzaC1yc2E" }))
      .toEqual(keyError("public key must be the text of a PEM (BEGIN PUBLIC KEY) or of a JWK (JSON)"));
    expect(await startError({ publicKey: rsa.publicPem.replace("-----END PUBLIC KEY-----", "") }))
      .toEqual(keyError("PEM block is malformed (BEGIN/END lines do not match)"));
    expect(await startError({ publicKey: rsa.publicPem.replace("END PUBLIC KEY", "END RSA PUBLIC KEY") }))
      .toEqual(keyError("PEM block is malformed (BEGIN/END lines do not match)"));
    expect(await startError({ publicKey: rsa.publicPem.replace("MII", "M!I") })).toEqual(keyError("PEM body is not valid base64"));
    expect(await startError({ publicKey: `-----BEGIN PUBLIC KEY-----\n${body.replace(/\n/g, "").slice(0, 100)}\n-----END PUBLIC KEY-----` }))
      .toEqual(keyError("PEM is not an RSA or EC P-256 public key"));
    expect(await startError({ publicKey: `-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----` }))
      .toEqual(keyError("RSA PUBLIC KEY PEM is not a valid RSA public key"));
    expect(await startError({ publicKey: rsa.publicPem + ec.publicPem }))
      .toEqual(keyError("PEM text holds more than one block; give exactly one public key"));
    expect(await startError({ publicKey: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----` }))
      .toEqual(keyError("PEM is a certificate; give its public key (BEGIN PUBLIC KEY)"));
    expect(await startError({ publicKey: `-----BEGIN SSH2 PUBLIC KEY-----\n${body}\n-----END SSH2 PUBLIC KEY-----` }))
      .toEqual(keyError('PEM type "SSH2 PUBLIC KEY" is not supported (use BEGIN PUBLIC KEY)'));
  });

  test("wrong kinds of keys in a PEM", async () => {
    const pkcs8 = toPem(await crypto.subtle.exportKey("pkcs8", rsa.privateKey), "PRIVATE KEY");
    expect(await startError({ publicKey: pkcs8 })).toEqual(keyError("PEM is a private key; give the public key (BEGIN PUBLIC KEY)"));
    const small = await generateRsa(1024);
    expect(await startError({ publicKey: small.publicPem })).toEqual(keyError("RSA key is 1024 bits; RS256 needs at least 2048"));
    expect(await startError({ publicKey: small.publicJwk })).toEqual(keyError("RSA key is 1024 bits; RS256 needs at least 2048"));
    const p384 = await generateEc("P-384");
    expect(await startError({ publicKey: p384.publicPem }))
      .toEqual(keyError("PEM is an EC key on a curve other than P-256 (ES256 needs P-256)"));
    expect(await startError({ publicKey: p384.publicJwk })).toEqual(keyError('JWK curve "P-384" is not supported (ES256 needs P-256)'));
  });

  test("broken JWK text", async () => {
    const privateJwk = await crypto.subtle.exportKey("jwk", ec.privateKey);
    const cases: [string, string][] = [
      ["{not json", "JWK is not valid JSON"],
      [JSON.stringify({ keys: [rsa.jwk] }), 'JWK is a key set ("keys"); give a single key'],
      [JSON.stringify(privateJwk), 'JWK is a private key (has "d"); give the public key'],
      [JSON.stringify({ ...rsa.jwk, use: "enc" }), 'JWK use "enc" is not "sig"'],
      [JSON.stringify({ ...rsa.jwk, alg: "PS256" }), 'JWK alg "PS256" is not RS256'],
      [JSON.stringify({ ...ec.jwk, alg: "ES384" }), 'JWK alg "ES384" is not ES256'],
      [JSON.stringify({ kty: "RSA", n: rsa.jwk.n }), 'RSA JWK needs string "n" and "e"'],
      [JSON.stringify({ kty: "RSA", n: "!!!", e: "AQAB" }), "JWK is not a valid RSA public key"],
      [JSON.stringify({ kty: "EC", crv: "P-256", x: ec.jwk.x }), 'EC JWK needs string "x" and "y"'],
      [JSON.stringify({ ...ec.jwk, x: ecOther.jwk.x }), "JWK is not a valid EC P-256 public key"],
      [JSON.stringify({ kty: "OKP", crv: "Ed25519", x: "AAAA" }), 'JWK kty "OKP" is not supported (use RSA or EC)'],
      [JSON.stringify({ kty: "oct", k: "c2VjcmV0" }), 'JWK kty "oct" is not supported (use RSA or EC)'],
    ];
    for (const [text, message] of cases) expect(await startError({ publicKey: text })).toEqual(keyError(message));
    expect((await createJwtVerifier({ publicKey: JSON.stringify({ ...ec.jwk, alg: "ES256", use: "sig" }), leewaySeconds: 0 })).ok).toBe(true);
  });
});
