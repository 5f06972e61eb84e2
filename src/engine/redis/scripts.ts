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

/**
 * The call never reached Redis (no connection, or the script could not be loaded): nothing ran.
 * Any other failure came after the command was written, so it may have run.
 */
export class NotSent extends Error {}

export class Script {
  private sha: Promise<string> | null = null;

  constructor(private readonly source: string) {}

  /** EVALSHA, loading the script first (one SCRIPT LOAD however many calls are waiting) and again after NOSCRIPT. */
  async run(cmd: RedisClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.call(cmd, await this.loaded(cmd), keys, args);
    } catch (e) {
      // NOSCRIPT: Redis restarted and lost its script cache; the call did not run.
      if (!String(e).includes("NOSCRIPT")) throw e;
      this.sha = null;
      return this.call(cmd, await this.loaded(cmd), keys, args);
    }
  }

  private call(cmd: RedisClient, sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    if (!cmd.connected) throw new NotSent("redis unavailable");
    return cmd.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
  }

  private async loaded(cmd: RedisClient): Promise<string> {
    try {
      return await this.load(cmd);
    } catch (e) {
      throw new NotSent(String(e));
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
