// docs/deploy.md as the deploy tests read it: the fenced blocks marked `<!-- test: NAME -->` on
// the line before the fence, and the real option parser (src/config/parse.ts) to judge every
// command line and environment the doc shows — no second copy of the option table.
import { readFileSync } from "node:fs";
import { parseConfig } from "../../src/config/parse.ts";
import { OPTIONS } from "../../src/config/spec.ts";
import type { Config } from "../../src/config/types.ts";

export const ROOT = Bun.fileURLToPath(new URL("../../", import.meta.url));
export const DOC_PATH = `${ROOT}docs/deploy.md`;

export function deployDoc(): string {
  return readFileSync(DOC_PATH, "utf8");
}

/** The one block marked `<!-- test: name -->`; a missing or doubled marker fails loudly. */
export function docBlock(name: string): string {
  const re = new RegExp(`<!-- test: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``, "g");
  const found = [...deployDoc().matchAll(re)];
  if (found.length !== 1) throw new Error(`docs/deploy.md: expected one block marked "test: ${name}", found ${found.length}`);
  return found[0]![1]!;
}

export const ENV_NAMES: ReadonlySet<string> = new Set(OPTIONS.map((o) => o.env));

/** Every flag the parser takes, `--no-<flag>` of the booleans included. */
export const FLAGS: ReadonlySet<string> = new Set(
  OPTIONS.flatMap((o) => (o.kind === "boolean" ? [o.flag, `--no-${o.flag.slice(2)}`] : [o.flag])),
);

/** The option row of a flag or env var. */
export function option(name: string) {
  const row = OPTIONS.find((o) => o.flag === name || o.env === name);
  if (!row) throw new Error(`no option ${name} in src/config/spec.ts`);
  return row;
}

/** argv + env through parseConfig; a refusal throws with the parser's own message. */
export function configOf(argv: readonly string[], env: Record<string, string> = {}): Config {
  const r = parseConfig(argv, env);
  if (r.ok) return r.config;
  throw new Error(`pushgate would refuse ${JSON.stringify(argv)}: ${"error" in r ? r.error : "--help"}`);
}

/** `NAME=value` lines (systemd EnvironmentFile / docker --env-file): no quotes, # comments. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const eq = t.indexOf("=");
    if (eq <= 0) throw new Error(`not a NAME=value line: ${line}`);
    env[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return env;
}

/** The pushgate options of a command line: the words after `src/main.ts` (or dist/pushgate). */
export function pushgateArgs(words: readonly string[]): string[] {
  const at = words.findIndex((w) => w === "src/main.ts" || w.endsWith("/src/main.ts") || w.endsWith("dist/pushgate"));
  if (at === -1) throw new Error(`not a pushgate command: ${words.join(" ")}`);
  return words.slice(at + 1);
}

/** The project's Bun version: package.json's `packageManager` (bun@X.Y.Z) without the prefix. */
export async function pinnedBunVersion(): Promise<string> {
  const pkg = (await Bun.file(`${ROOT}package.json`).json()) as { packageManager?: unknown };
  const m = /^bun@(\d+\.\d+\.\d+)$/.exec(String(pkg.packageManager));
  if (!m) throw new Error(`package.json: packageManager is not bun@X.Y.Z: ${String(pkg.packageManager)}`);
  return m[1]!;
}
