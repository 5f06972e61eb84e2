// The SDK's declarations as one self-contained file, src/client/pushgate-client.d.ts: committed,
// because the server serves it at GET /client.d.ts and no TypeScript is there at run time; packed
// for npm as dist/client.d.ts. The pinned tsc emits one .d.ts per source file; they are joined
// here: relative imports dropped, every `export` made local, then exactly index.ts's exports.
//   bun src/build/declarations.ts          regenerate the committed file (`bun run build:types`)
//   bun src/build/declarations.ts --check  exit 1 if it is stale (test/build/declarations.test.ts)
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TYPESCRIPT_VERSION, tscCommand } from "./typescript.ts";

const CLIENT_DIR = Bun.fileURLToPath(new URL("../client/", import.meta.url));
export const DECLARATIONS_FILE = join(CLIENT_DIR, "pushgate-client.d.ts");

type Joined = { ok: true; text: string } | { ok: false; error: string };

const HEADER = [
  "// pushgate client SDK: the declarations of pushgate/client and of GET /client.d.ts.",
  `// Generated from src/client/ by src/build/declarations.ts with TypeScript ${TYPESCRIPT_VERSION}; do not edit,`,
  "// run `bun run build:types`.",
  "",
].join("\n");

const RELATIVE_IMPORT = /^import\s([^;]*?)\sfrom\s+"\.\/[^"]+";\n/gm;
const RE_EXPORT = /^export\s+(type\s+)?\{([^}]*)\}\s+from\s+"\.\/[^"]+";\n?/gm;
const EXPORTED = /^export\s+(?=declare\s|interface\s|type\s)/gm;
const DECLARED = /^(?:declare\s+)?(?:abstract\s+)?(?:class|interface|type|const|let|var|function|enum|namespace)\s+([A-Za-z_$][\w$]*)/gm;

/** Joins tsc's per-file output (`{ "client.d.ts": text, … }`, with index.d.ts) into one module. */
export function joinDeclarations(files: Record<string, string>): Joined {
  const index = files["index.d.ts"];
  if (index === undefined) return { ok: false, error: "no index.d.ts" };
  const values: string[] = [];
  const types: string[] = [];
  const rest = index.replace(RE_EXPORT, (_, isType: string | undefined, names: string) => {
    for (const n of names.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (/\s/.test(n)) return `unsupported re-export "${n}"`; // `a as b`: left for the check below
      (isType ? types : values).push(n);
    }
    return "";
  });
  if (rest.trim() !== "") return { ok: false, error: `index.d.ts: unexpected ${JSON.stringify(rest.trim().slice(0, 80))}` };

  const owner = new Map<string, string>();
  const parts: string[] = [HEADER];
  for (const name of Object.keys(files).sort()) {
    if (name === "index.d.ts") continue;
    let bad: string | null = null;
    const text = (files[name] ?? "").replace(RELATIVE_IMPORT, (_, clause: string) => {
      if (/\sas\s/.test(clause)) bad = `renamed import ${clause}`;
      return "";
    }).replace(EXPORTED, "");
    bad ??= /^(import|export)\b/m.test(text) ? "an import or export that cannot be joined" : null;
    if (bad) return { ok: false, error: `${name}: ${bad}` };
    for (const m of text.matchAll(DECLARED)) {
      const id = m[1] as string;
      const first = owner.get(id);
      if (first !== undefined && first !== name) return { ok: false, error: `"${id}" is declared in ${first} and ${name}` };
      owner.set(id, name);
    }
    parts.push(`// ---- ${name.replace(/\.d\.ts$/, ".ts")}\n${text.trimEnd()}\n`);
  }
  const missing = [...values, ...types].filter((n) => !owner.has(n));
  if (missing.length > 0) return { ok: false, error: `index.d.ts exports undeclared ${missing.join(", ")}` };
  parts.push(`export { ${values.join(", ")} };\nexport type {\n${wrap(types)}\n};\n`);
  return { ok: true, text: parts.join("\n") };
}

function wrap(names: readonly string[]): string {
  const lines: string[] = [];
  let line = " ";
  for (const n of names) {
    if (line.length + n.length > 96) { lines.push(line); line = " "; }
    line += ` ${n},`;
  }
  lines.push(line);
  return lines.join("\n");
}

/** Runs the pinned tsc over src/client/ and joins its output; needs `bun x` (the registry, once). */
export async function generateDeclarations(): Promise<Joined> {
  const dir = mkdtempSync(join(tmpdir(), "pushgate-dts-"));
  try {
    const out = join(dir, "out");
    // Only DOM and ES types: the SDK must not lean on Bun's, or a browser project could not use it.
    const compilerOptions = {
      target: "esnext", module: "preserve", moduleResolution: "bundler", allowImportingTsExtensions: true,
      verbatimModuleSyntax: true, strict: true, skipLibCheck: true, lib: ["esnext", "dom"], types: [],
      declaration: true, emitDeclarationOnly: true, stripInternal: true, outDir: out, rootDir: CLIENT_DIR,
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: [join(CLIENT_DIR, "index.ts")] }));
    const proc = Bun.spawnSync(tscCommand(["-p", join(dir, "tsconfig.json")]), { stdout: "pipe", stderr: "pipe" });
    if (proc.exitCode !== 0) {
      return { ok: false, error: `tsc failed (${proc.exitCode}): ${proc.stdout.toString()}${proc.stderr.toString()}`.trim() };
    }
    const files: Record<string, string> = {};
    for (const f of readdirSync(out)) if (f.endsWith(".d.ts")) files[f] = readFileSync(join(out, f), "utf8");
    return joinDeclarations(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  const got = await generateDeclarations();
  if (!got.ok) {
    console.error(`declarations: ${got.error}`);
    process.exit(1);
  }
  const current = (() => { try { return readFileSync(DECLARATIONS_FILE, "utf8"); } catch { return null; } })();
  if (check) {
    if (current !== got.text) {
      console.error("src/client/pushgate-client.d.ts is stale: run `bun run build:types`");
      process.exit(1);
    }
    console.log("src/client/pushgate-client.d.ts is up to date");
  } else if (current !== got.text) {
    writeFileSync(DECLARATIONS_FILE, got.text);
    console.log("wrote src/client/pushgate-client.d.ts");
  }
}
