// The pluggable login step. A protocol hands the authenticator one credential string: the uid
// (uid mode) or a signed token (jwt mode).
import type { Result } from "../core/result.ts";

export interface Identity {
  uid: string;
  /** Groups to join at login (e.g. from a token claim). */
  groups?: readonly string[];
  /** When the credential expires, ms since epoch; the connection is closed then (4001). */
  expiresAt?: number;
}

export interface Authenticator {
  readonly mode: string;
  /** Which field of a pushgate.v1 `auth` frame carries the credential. */
  readonly credential: "uid" | "token";
  /** True when anyone can claim any identity: the server warns at start. */
  readonly insecure: boolean;
  /** True when identities come back already validated (uid rules, group names): login skips it. */
  readonly validated?: boolean;
  authenticate(credential: string): Result<Identity> | Promise<Result<Identity>>;
}
