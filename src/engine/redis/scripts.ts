// The Lua scripts, kept in .lua files and embedded as text (so a compiled binary carries them).
// Script loads a script once per Redis connection lifetime, however many calls wait for it.
import type { RedisClient } from "bun";
import ADMIT from "./admit.lua" with { type: "text" };
import BEAT from "./beat.lua" with { type: "text" };
import LIVE from "./live.lua" with { type: "text" };
import LOGIN from "./login.lua" with { type: "text" };
import MARK from "./mark.lua" with { type: "text" };
import PUSH from "./push.lua" with { type: "text" };
import UID_COUNTS from "./uid-counts.lua" with { type: "text" };

export const SCRIPTS = { push: PUSH, login: LOGIN, mark: MARK, beat: BEAT, live: LIVE, admit: ADMIT, uidCounts: UID_COUNTS } as const;

export class Script {
  private sha: Promise<string> | null = null;

  constructor(private readonly source: string) {}

  /** EVALSHA, loading the script first (one SCRIPT LOAD however many calls are waiting) and again after NOSCRIPT. */
  async run(cmd: RedisClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const call = (sha: string) => cmd.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
    try {
      return await call(await this.load(cmd));
    } catch (e) {
      if (!String(e).includes("NOSCRIPT")) throw e;
      // Redis restarted and lost its script cache.
      this.sha = null;
      return call(await this.load(cmd));
    }
  }

  /** Forget the loaded sha (a new connection may be to a restarted Redis). */
  reset(): void {
    this.sha = null;
  }

  private load(cmd: RedisClient): Promise<string> {
    const p = this.sha ??= cmd.send("SCRIPT", ["LOAD", this.source]) as Promise<string>;
    // A failed load is not remembered: the next call tries again.
    p.catch(() => { if (this.sha === p) this.sha = null; });
    return p;
  }
}
