// The one TypeScript version used everywhere: `bun run typecheck` (package.json spells the same
// version; test/build/declarations.test.ts checks they agree), the declaration build and the
// consumer test. TypeScript is not a dependency: `bun x` fetches it once into Bun's cache.

export const TYPESCRIPT_VERSION = "5.9.3";

/** argv that runs the pinned `tsc` with `args`. */
export function tscCommand(args: readonly string[]): string[] {
  return [process.execPath, "x", "--package", `typescript@${TYPESCRIPT_VERSION}`, "tsc", ...args];
}
