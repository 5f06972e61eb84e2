// The pluggable login step. `uid` mode trusts the first frame; signed tokens (a later issue)
// plug in here without touching the protocols.
import type { Result } from "../core/result.ts";

export interface Identity {
  uid: string;
  /** Groups to join at login (e.g. from a token claim). */
  groups?: readonly string[];
}

export interface Authenticator {
  readonly mode: string;
  /** True when anyone can claim any identity: the server warns at start. */
  readonly insecure: boolean;
  /** Turn the first text frame of a connection into an identity. */
  fromFirstFrame(frame: string): Result<Identity> | Promise<Result<Identity>>;
}
