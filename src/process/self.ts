// How this program was started, for re-running itself (--workers) and for --help. In a binary
// made by `bun build --compile` (src/build/binary.ts) the entry point lives in Bun's embedded
// file system and process.execPath is the binary itself.
import { basename } from "node:path";

const MAIN = Bun.fileURLToPath(new URL("../main.ts", import.meta.url));

/** True inside a compiled single binary. */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/"); // POSIX, Windows
}

/** The command that starts this program again, before its arguments. */
export function selfCommand(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, MAIN];
}

/** How a user starts it, for the usage line: the binary's name, or `bun run start`. */
export function invocation(): string {
  return isCompiled() ? basename(process.execPath) : "bun run start";
}
