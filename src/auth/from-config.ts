// Builds the authenticator the config asks for. jwt mode loads and checks its key first, so a
// bad key fails at start with an exact message rather than at the first login.
import type { Config } from "../config/types.ts";
import { type Result, err, ok } from "../core/result.ts";
import { createJwtVerifier, type JwtVerifier } from "./jwt.ts";
import type { Authenticator } from "./types.ts";
import { uidAuthenticator } from "./uid-auth.ts";

export function jwtAuthenticator(verifier: JwtVerifier): Authenticator {
  return {
    mode: "jwt",
    credential: "token",
    insecure: false,
    validated: true, // jwt-claims checks sub and groups with the same rules
    verifier,
    async authenticate(token) {
      const r = await verifier.verify(token);
      if (!r.ok) return r;
      const c = r.value;
      // A channel token (ws/v1-subscribe.ts) admits to one group, never to a connection.
      if (c.channel !== undefined) return err("E_AUTH_FAILED", "a channel token cannot log in (it has a `channel` claim)");
      // --jwt-leeway may let a just-expired token verify, but a connection cannot live on it
      // (login and the expiry wheel go by exp): refuse it here, 401 on the URL, error in refresh.
      if (c.exp * 1000 <= Date.now()) return err("E_TOKEN_EXPIRED", "token expired");
      return ok({ uid: c.sub, groups: c.groups, expiresAt: c.exp * 1000 });
    },
  };
}

export async function authenticatorFor(config: Config): Promise<Result<Authenticator>> {
  if (config.auth === "uid") return ok(uidAuthenticator);
  let publicKey: string | undefined;
  if (config.jwtPublicKey !== null) {
    const file = Bun.file(config.jwtPublicKey);
    // Not there (yet): a mounted secret may appear, so this is not a bad value (exit 1, retried).
    if (!(await file.exists())) return err("E_NOT_FOUND", `--jwt-public-key: no file at ${config.jwtPublicKey}`);
    publicKey = await file.text();
  }
  const verifier = await createJwtVerifier({
    secret: config.jwtSecret ?? undefined,
    publicKey,
    issuer: config.jwtIssuer ?? undefined,
    audience: config.jwtAudience ?? undefined,
    leewaySeconds: config.jwtLeeway,
    // A token past exp is refused as expired before any other claim is judged (docs/auth.md).
    expLeewaySeconds: 0,
  });
  if (verifier.ok) return ok(jwtAuthenticator(verifier.value));
  const flag = verifier.field === "publicKey" ? "--jwt-public-key (PUSHGATE_JWT_PUBLIC_KEY)"
    : verifier.field === "secret" ? "--jwt-secret (PUSHGATE_JWT_SECRET)"
    : verifier.field === "issuer" ? "--jwt-issuer" : verifier.field === "audience" ? "--jwt-audience" : "--jwt-*";
  return err(verifier.code, `invalid ${flag}: ${verifier.message}`);
}
