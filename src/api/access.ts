// Who may call the HTTP API: with an API key, any caller presenting `Authorization: Bearer <key>`
// (constant-time compare of digests); without one, loopback callers only.
// (No node:crypto / node:net: importing them costs a node ~5 MiB of RSS; see docs/performance.md.)
import type { Server } from "bun";
import { type Err, err } from "../core/result.ts";

export class ApiAccess {
  private readonly keyDigest: Uint8Array | null;
  /** Listening on a loopback address: every caller is local, no per-request address lookup. */
  private readonly loopbackBound: boolean;

  /** Whether `apiKey` sets a key: unset or blank (after trimming) is none. */
  static hasKey(apiKey: string | null): apiKey is string {
    return apiKey !== null && apiKey.trim() !== "";
  }

  constructor(apiKey: string | null, host: string) {
    // The presented key is trimmed, so the configured one must be too.
    this.keyDigest = ApiAccess.hasKey(apiKey) ? digest(apiKey.trim()) : null;
    // Only a literal address counts: a name could resolve anywhere.
    this.loopbackBound = isIpLiteral(host) && isLoopback(host);
  }

  check(req: Request, server: Server<unknown>): Err | null {
    if (this.keyDigest === null) {
      if (this.loopbackBound) return null;
      const ip = server.requestIP(req)?.address ?? "";
      return isLoopback(ip) ? null : err("E_FORBIDDEN", "no API key is configured, so the API answers loopback callers only (set PUSHGATE_API_KEY)");
    }
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !sameBytes(digest(m[1]!.trim()), this.keyDigest)) {
      return err("E_UNAUTHORIZED", "missing or wrong API key (Authorization: Bearer <key>)");
    }
    return null;
  }
}

function digest(s: string): Uint8Array {
  return Bun.CryptoHasher.hash("sha256", s) as Uint8Array;
}

/** Constant time for equal lengths (both are SHA-256 digests: always 32 bytes). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A literal IPv4 or IPv6 address (a host name could resolve anywhere). */
function isIpLiteral(host: string): boolean {
  return /^(\d{1,3}\.){3}\d{1,3}$/.test(host) || (host.includes(":") && /^[0-9a-fA-F:.]+$/.test(host));
}

export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.") || ip.startsWith("::ffff:127.");
}
