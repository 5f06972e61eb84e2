// What a close from the server means for reconnecting (docs/protocol.md, close codes).

/** "fatal": stop; "now": reconnect at once; "backoff": reconnect after the backoff delay. */
export type CloseDecision = "fatal" | "now" | "backoff";

export const TOKEN_EXPIRED_CLOSE = 4001;
export const POLICY_VIOLATION_CLOSE = 1008;

/** Codes of 1008 closes that the same credentials would get again. */
const CREDENTIAL_CODES: ReadonlySet<string> = new Set(["E_AUTH_FAILED", "E_INVALID_UID", "E_TOKEN_EXPIRED"]);

/** The `E_*` code at the start of a close reason (`"E_AUTH_FAILED: bad signature"`), or null. */
export function reasonCode(reason: string): string | null {
  const m = /^(E_[A-Z0-9_]+)(?::|$)/.exec(reason);
  return m ? m[1]! : null;
}

/** A 1008 close whose code says the credentials were refused. */
export function isCredentialRefusal(code: number, reason: string): boolean {
  if (code !== POLICY_VIOLATION_CLOSE) return false;
  const c = reasonCode(reason);
  return c !== null && CREDENTIAL_CODES.has(c);
}

/**
 * - 4001 token expired: at once, with a fresh token from the callback;
 * - 1008 refused credentials: stop, unless a token callback can produce new ones;
 * - anything else (shutdown, closeClient, network loss, limits): after the backoff.
 */
export function closeDecision(code: number, reason: string, hasTokenCallback: boolean): CloseDecision {
  if (code === TOKEN_EXPIRED_CLOSE) return "now";
  if (code === POLICY_VIOLATION_CLOSE) {
    const c = reasonCode(reason);
    if (c !== null && CREDENTIAL_CODES.has(c)) return hasTokenCallback ? "backoff" : "fatal";
  }
  return "backoff";
}
