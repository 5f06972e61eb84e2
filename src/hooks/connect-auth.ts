// --auth hook: the backend decides every login. pushgate POSTs the credential (the seed login
// frame, or `token` of a pushgate.v1 `auth`), the clientId, the protocol, the client's address
// and the upgrade headers --hook-headers names; the backend answers 2xx
// `{ uid, groups?, session?, expiresAt? }` to admit (checked like any identity), or a refusal —
// 4xx, or 2xx with `error` — whose message is the close reason (1008 E_AUTH_FAILED). A backend
// that is down, slow, broken or answers 5xx closes the login 1013 (try again later) with
// E_BACKEND_UNAVAILABLE / E_BACKEND_TIMEOUT (docs/hooks.md).
import type { Authenticator, Identity, LoginContext } from "../auth/types.ts";
import type { Backend } from "../core/backend.ts";
import { validateGroup, validateUid } from "../core/names.ts";
import { type Result, err, ok } from "../core/result.ts";

const MAX_REASON = 100;

export function hookAuthenticator(backend: Backend, maxGroups: number): Authenticator {
  return {
    mode: "hook",
    credential: "token",
    insecure: false,
    validated: true, // identityOf checks uid and groups with the same rules
    wantsRequest: true,
    async authenticate(credential: string, ctx: LoginContext): Promise<Result<Identity>> {
      const r = await backend.post("connect", { credential, clientId: ctx.clientId, protocol: ctx.protocol, ip: ctx.ip, headers: ctx.headers });
      if (!r.ok) return r;
      const { status, body } = r.value;
      if (status >= 400 || body.error !== undefined) return err("E_AUTH_FAILED", reasonOf(body.error) ?? `refused by the backend (${status})`);
      return identityOf(body, maxGroups);
    },
  };
}

/** The backend's answer as an identity, or why it cannot be one. */
function identityOf(body: Record<string, unknown>, maxGroups: number): Result<Identity> {
  const uid = validateUid(body.uid);
  if (!uid.ok) return err("E_AUTH_FAILED", `the backend answered no valid uid (${uid.message})`);
  const id: Identity = { uid: uid.value };
  if (body.groups !== undefined) {
    if (!Array.isArray(body.groups) || body.groups.length > maxGroups) return err("E_AUTH_FAILED", `the backend's groups must be an array of at most ${maxGroups} group names`);
    for (const g of body.groups) if (!validateGroup(g).ok) return err("E_AUTH_FAILED", "the backend answered an invalid group name");
    id.groups = body.groups as string[];
  }
  if (body.session !== undefined) {
    if (body.session === null || typeof body.session !== "object" || Array.isArray(body.session)) return err("E_AUTH_FAILED", "the backend's session must be a JSON object");
    id.session = body.session as Record<string, unknown>;
  }
  if (body.expiresAt !== undefined) {
    if (typeof body.expiresAt !== "number" || !Number.isFinite(body.expiresAt)) return err("E_AUTH_FAILED", "the backend's expiresAt must be ms since epoch");
    id.expiresAt = body.expiresAt;
  }
  return ok(id);
}

function reasonOf(e: unknown): string | null {
  const m = typeof e === "string" ? e : typeof (e as { message?: unknown })?.message === "string" ? (e as { message: string }).message : null;
  return m === null ? null : m.slice(0, MAX_REASON);
}
