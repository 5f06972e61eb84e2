// The start of every load process: its config as JSON in argv[2] (the orchestrator builds it),
// its `RESULT <json>` lines on stdout, and for the processes that hold idle sockets, the shared
// start instant and the SIGUSR1 release.
import { RESULT_PREFIX } from "../lib/types.ts";
import type { WsConn } from "../lib/ws-client.ts";

/** The config from argv[2], or a usage line on stderr and exit 2. */
export function readConfig<T>(script: string, typeName: string, builtBy: string): T {
  const cfg = JSON.parse(Bun.argv[2] ?? "null") as T | null;
  if (!cfg) {
    console.error(`usage: bun ${script} '<${typeName} JSON>' (${builtBy} builds it)`);
    process.exit(2);
  }
  return cfg;
}

/** What a load process that logs clients in at a shared instant and then holds them is given. */
export interface HeldClientsConfig {
  port: number;
  /** Its clients are uids u<firstUid>..u<firstUid + clients - 1>. */
  firstUid: number;
  clients: number;
  concurrency: number;
  /** Epoch ms at which every process starts connecting. */
  startAt: number;
  connectTimeoutMs: number;
  /** Longest hold after the logins if no SIGUSR1 comes (0 = close at once). */
  holdMaxMs: number;
}

/** Resolves on SIGUSR1 (sent by the orchestrator, by pid) to end a hold. */
export function releaseOnSignal(): PromiseWithResolvers<void> {
  const release = Promise.withResolvers<void>();
  process.on("SIGUSR1", () => release.resolve());
  return release;
}

/** Sleeps until `epochMs` (the instant every load process starts at). */
export async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await Bun.sleep(wait);
}

/** Waits for the release, at most maxMs (0 = not at all). */
export async function holdUntilReleased(release: PromiseWithResolvers<void>, maxMs: number): Promise<void> {
  if (maxMs <= 0) return;
  const timer = setTimeout(() => release.resolve(), maxMs);
  await release.promise;
  clearTimeout(timer);
}

/** Prints one phase's `RESULT <json>` line; with `conns`, first adds how many of them closed and their unexpected frames. */
export function printResult(r: Record<string, unknown>, conns?: readonly WsConn[]): void {
  if (conns) {
    r.connsClosed = conns.filter((c) => !c.open).length;
    r.unexpectedFrames = conns.reduce((n, c) => n + c.unexpectedFrames, 0);
  }
  process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + "\n");
}
