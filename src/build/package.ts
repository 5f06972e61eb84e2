// `prepack` (npm pack / npm publish): builds what package.json's "./client" export points at, in
// dist/ (gitignored): client.js, the SDK bundled for browsers as one ES module (not minified: the
// consumer's bundler does that), and client.d.ts, its declarations. It refuses to pack stale
// declarations: src/client/pushgate-client.d.ts must match what the pinned tsc makes of src/client/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildClientBundle } from "../api/client-bundle.ts";
import { DECLARATIONS_FILE, generateDeclarations } from "./declarations.ts";

const ROOT = Bun.fileURLToPath(new URL("../../", import.meta.url));

/** Writes dist/client.js and dist/client.d.ts under `root`; an error message, or null. */
export async function buildPackageFiles(root = ROOT): Promise<string | null> {
  const [bundle, types] = await Promise.all([buildClientBundle(false), generateDeclarations()]);
  if (!bundle.ok) return `client bundle failed: ${bundle.logs.join("\n")}`;
  if (!types.ok) return `declarations failed: ${types.error}`;
  if (readFileSync(DECLARATIONS_FILE, "utf8") !== types.text) {
    return "src/client/pushgate-client.d.ts is stale: run `bun run build:types` and commit it";
  }
  const dist = join(root, "dist");
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, "client.js"), bundle.text);
  writeFileSync(join(dist, "client.d.ts"), types.text);
  return null;
}

if (import.meta.main) {
  const error = await buildPackageFiles();
  if (error) {
    console.error(`prepack: ${error}`);
    process.exit(1);
  }
  console.log("prepack: wrote dist/client.js and dist/client.d.ts");
}
