// `bun run build`: one self-contained executable of the server (bun build --compile of
// src/main.ts), default dist/pushgate. A binary cannot bundle src/client/ or src/admin/page/ at
// run time, so the SDK bundle with its declarations and the /admin page's script and stylesheet
// are built now and put in place of src/api/client-embedded.ts and src/admin/embedded.ts.
//   bun src/build/binary.ts [--outfile PATH] [--target bun-linux-x64|…]
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BunPlugin } from "bun";
import { buildAdminAssets } from "../admin/assets.ts";
import { buildClientBundle } from "../api/client-bundle.ts";
import type { EmbeddedClient } from "../api/client-embedded.ts";
import { DECLARATIONS_FILE } from "./declarations.ts";

const ROOT = Bun.fileURLToPath(new URL("../../", import.meta.url));
const MAIN = Bun.fileURLToPath(new URL("../main.ts", import.meta.url));
export const DEFAULT_OUTFILE = resolve(ROOT, "dist/pushgate");

/** Replaces the module `file` matches with `export const <name> = <value>`. */
function embed(file: RegExp, name: string, value: unknown): BunPlugin {
  return {
    name: `pushgate-${name}`,
    setup(b) {
      b.onLoad({ filter: file }, () => ({ contents: `export const ${name} = ${JSON.stringify(value)};\n`, loader: "ts" }));
    },
  };
}

/** Builds the binary at `outfile`; an error message, or null. */
export async function buildBinary(outfile = DEFAULT_OUTFILE, target?: Bun.Build.CompileTarget): Promise<string | null> {
  const bundle = await buildClientBundle();
  if (!bundle.ok) return `client bundle failed: ${bundle.logs.join("\n")}`;
  const client: EmbeddedClient = { js: bundle.text, dts: readFileSync(DECLARATIONS_FILE, "utf8") };
  const admin = await buildAdminAssets();
  if (!admin.ok) return `admin page build failed: ${admin.logs.join("\n")}`;
  const out = await Bun.build({
    entrypoints: [MAIN],
    compile: target ? { outfile, target } : { outfile },
    throw: false,
    plugins: [
      embed(/[\\/]api[\\/]client-embedded\.ts$/, "embeddedClient", client),
      embed(/[\\/]admin[\\/]embedded\.ts$/, "embeddedAdmin", admin.value),
    ],
  });
  return out.success ? null : `compile failed: ${out.logs.map(String).join("\n")}`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const value = (flag: string) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
  const outfile = resolve(value("--outfile") ?? DEFAULT_OUTFILE);
  const error = await buildBinary(outfile, value("--target") as Bun.Build.CompileTarget | undefined);
  if (error) {
    console.error(`build: ${error}`);
    process.exit(1);
  }
  console.log(`build: wrote ${outfile}`);
}
