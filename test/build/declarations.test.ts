// src/client/pushgate-client.d.ts (served at /client.d.ts, packed as dist/client.d.ts) is generated
// and committed: it must be exactly what the pinned tsc makes of src/client/ now. And one pinned
// TypeScript version everywhere.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { DECLARATIONS_FILE, generateDeclarations, joinDeclarations } from "../../src/build/declarations.ts";
import { TYPESCRIPT_VERSION } from "../../src/build/typescript.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

test("the committed declarations are up to date (else: bun run build:types)", async () => {
  const got = await generateDeclarations();
  if (!got.ok) throw new Error(got.error);
  const committed = readFileSync(DECLARATIONS_FILE, "utf8");
  if (committed !== got.text) throw new Error("src/client/pushgate-client.d.ts is stale: run `bun run build:types`");
  expect(got.text).toContain("export { PushgateClient, SUBPROTOCOL, ClientErrorCode, PushgateError, Subscription };");
  expect(got.text).not.toMatch(/from "\.\//); // self-contained
  expect(got.text).not.toContain("@internal"); // stripInternal
}, 60_000);

test("bun run typecheck uses the pinned TypeScript", () => {
  expect(pkg.scripts.typecheck).toBe(`bun x --package typescript@${TYPESCRIPT_VERSION} tsc --noEmit`);
  expect(pkg.devDependencies?.typescript).toBeUndefined();
  expect(pkg.dependencies).toBeUndefined();
});

test("joining refuses what it cannot join faithfully", () => {
  const index = 'export { A } from "./a.ts";\nexport type { T } from "./a.ts";\n';
  const a = 'import { X } from "./x.ts";\nexport declare class A {\n}\nexport type T = X;\n';
  const x = "export interface X {\n}\n";
  const ok = joinDeclarations({ "index.d.ts": index, "a.d.ts": a, "x.d.ts": x });
  expect(ok).toEqual({ ok: true, text: expect.stringContaining("declare class A {") });
  expect(ok.ok && ok.text.endsWith("export { A };\nexport type {\n  T,\n};\n")).toBe(true);

  const twice = joinDeclarations({ "index.d.ts": index, "a.d.ts": a, "x.d.ts": "export interface A {\n}\n" });
  expect(twice).toEqual({ ok: false, error: '"A" is declared in a.d.ts and x.d.ts' });
  const renamed = joinDeclarations({ "index.d.ts": index, "a.d.ts": a.replace("{ X }", "{ X as Y }"), "x.d.ts": x });
  expect(renamed).toMatchObject({ ok: false, error: expect.stringContaining("renamed import") });
  const external = joinDeclarations({ "index.d.ts": index, "a.d.ts": `import type { Z } from "zod";\n${a}`, "x.d.ts": x });
  expect(external).toMatchObject({ ok: false, error: expect.stringContaining("cannot be joined") });
  const missing = joinDeclarations({ "index.d.ts": 'export { B } from "./a.ts";\n', "a.d.ts": a, "x.d.ts": x });
  expect(missing).toEqual({ ok: false, error: "index.d.ts exports undeclared B" });
});
