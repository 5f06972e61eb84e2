// The pluggable login step. A protocol hands the authenticator one credential string: the uid
// (uid mode), a signed token (jwt mode) or whatever the backend understands (hook mode), and
// what the connection's upgrade request said (hook mode asks for it: `wantsRequest`).
import type { JwtVerifier } from "./jwt.ts";
import type { Result } from "../core/result.ts";

export interface Identity {
  uid: string;
  /** Groups to join at login (e.g. from a token claim). */
  groups?: readonly string[];
  /** When the credential expires, ms since epoch; the connection is closed then (4001). */
  expiresAt?: number;
  /** The connection's session data to start with (hook mode; as setSession). */
  session?: Record<string, unknown>;
}

/** What the login knows besides the credential. */
export interface LoginContext {
  clientId: string;
  protocol: "seed" | "v1";
  /** The upgrade request's address and the headers --hook-headers names (only when `wantsRequest`). */
  ip: string;
  headers: Readonly<Record<string, string>>;
}

export interface Authenticator {
  readonly mode: string;
  /** Which field of a pushgate.v1 `auth` frame carries the credential. */
  readonly credential: "uid" | "token";
  /** True when anyone can claim any identity: the server warns at start. */
  readonly insecure: boolean;
  /** True when identities come back already validated (uid rules, group names): login skips it. */
  readonly validated?: boolean;
  /** The upgrade request's address and headers are kept for the login (hook mode). */
  readonly wantsRequest?: boolean;
  authenticate(credential: string, ctx: LoginContext): Result<Identity> | Promise<Result<Identity>>;
  /** jwt mode: the verifier (its key also checks channel tokens, ws/v1-subscribe.ts). */
  readonly verifier?: JwtVerifier;
}
