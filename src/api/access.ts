// Who may call the HTTP API: with an API key, any caller presenting `Authorization: Bearer <key>`
// (constant-time compare of digests); without one, loopback callers only.
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { Server } from "bun";
import { type Err, err } from "../core/result.ts";

export class ApiAccess {
  private readonly keyDigest: Buffer | null;
  /** Listening on a loopback address: every caller is local, no per-request address lookup. */
  private readonly loopbackBound: boolean;

  constructor(apiKey: string | null, host: string) {
    // The presented key is trimmed, so the configured one must be too.
    this.keyDigest = apiKey === null || apiKey.trim() === "" ? null : digest(apiKey.trim());
    // Only a literal address counts: a name could resolve anywhere.
    this.loopbackBound = isIP(host) !== 0 && isLoopback(host);
  }

  check(req: Request, server: Server<unknown>): Err | null {
    if (this.keyDigest === null) {
      if (this.loopbackBound) return null;
      const ip = server.requestIP(req)?.address ?? "";
      return isLoopback(ip) ? null : err("E_FORBIDDEN", "no API key is configured, so the API answers loopback callers only (set PUSHGATE_API_KEY)");
    }
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), this.keyDigest)) {
      return err("E_UNAUTHORIZED", "missing or wrong API key (Authorization: Bearer <key>)");
    }
    return null;
  }
}

function digest(s: string): Buffer {
  return Bun.CryptoHasher.hash("sha256", s) as Buffer;
}

export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.") || ip.startsWith("::ffff:127.");
}
