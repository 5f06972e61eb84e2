// The SDK as an npm package, consumed as a stranger would: `npm pack` (prepack builds dist/), a
// fresh project with `tsc --init` defaults and the pinned TypeScript, `npm install <tarball>`, and
// tsc over a file that uses PushgateClient's types — clean for nodenext (the --init default),
// node16 and bundler, except for one deliberate error that must be reported. The browser case: a
// page's script importing /client.js with /client.d.ts saved beside it, as the server serves them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tscCommand } from "../../src/build/typescript.ts";
import { describeWith, startTestServer } from "../helpers.ts";

const ROOT = Bun.fileURLToPath(new URL("../../", import.meta.url));
const NPM = Bun.which("npm");
const dir = mkdtempSync(join(tmpdir(), "pushgate-package-"));
const app = join(dir, "consumer");

function sh(cmd: string[], cwd: string): { code: number; out: string; stdout: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, npm_config_update_notifier: "false" } });
  const stdout = p.stdout.toString();
  return { code: p.exitCode, out: stdout + p.stderr.toString(), stdout };
}

/** stdout of a command that must succeed. */
function must(cmd: string[], cwd: string): string {
  const r = sh(cmd, cwd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (${r.code}):\n${r.out}`);
  return r.stdout;
}

/** tsc's `error TS…` lines, for the consumer project under `flags`. */
function typeErrors(flags: string[]): string[] {
  const r = sh(tscCommand(["-p", ".", "--noEmit", ...flags]), app);
  return r.out.split("\n").filter((l) => /error TS\d+/.test(l));
}

const USES_TYPES = `import { PushgateClient, PushgateError, ClientErrorCode, SUBPROTOCOL } from "pushgate/client";
import type { PushgateClientOptions, PushMeta, SendResult, WelcomeFrame } from "pushgate/client";

const options: PushgateClientOptions = { url: "ws://127.0.0.1:1234/", uid: "42", reconnect: { maxAttempts: 3 } };
const client = new PushgateClient(options);
client.on("message", (data: unknown, meta: PushMeta) => console.log(meta.stream, meta.offset, data));
client.on("error", (e: PushgateError) => console.log(e.code === ClientErrorCode.GAVE_UP));
export async function run(): Promise<number> {
  const welcome: WelcomeFrame = await client.connect();
  const sent: SendResult = await client.send(\`uid:\${welcome.uid}\`, { text: "hi" });
  const room = client.subscribe("room-1");
  room.on("message", (data) => console.log(room.group, data));
  return sent.delivered + SUBPROTOCOL.length;
}
`;
// Must be reported, or a typecheck that silently checks nothing would pass.
const DELIBERATE = `import { PushgateClient } from "pushgate/client";
export const n: number = new PushgateClient({ url: "ws://x/" }).state;
`;
const PAGE = `import { PushgateClient, type PushgateClientOptions } from "./client.js";
const options: PushgateClientOptions = { url: "ws://127.0.0.1:1234/", uid: "page" };
export const connected: Promise<string> = new PushgateClient(options).connect().then((w) => w.clientId);
`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWith("npm", NPM, "apt-get install -y npm", true, "npm package", () => {
  let files: string[] = [];
  beforeAll(async () => {
    // prepack (bun src/build/package.ts) builds dist/client.js and dist/client.d.ts first.
    const out = must([NPM as string, "pack", "--json", "--pack-destination", dir], ROOT);
    const packed = JSON.parse(out.slice(out.search(/^\[/m))); // after the prepack script's own output
    files = (packed[0].files as { path: string }[]).map((f) => f.path);
    const tarball = join(dir, packed[0].filename as string);
    mkdirSync(join(app, "src"), { recursive: true });
    mkdirSync(join(app, "web"), { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    must(tscCommand(["--init"]), app);
    must([NPM as string, "install", "--no-audit", "--no-fund", "--ignore-scripts", tarball], app);
    writeFileSync(join(app, "src", "uses-types.ts"), USES_TYPES);
    writeFileSync(join(app, "src", "deliberate.ts"), DELIBERATE);

    await using pg = startTestServer();
    for (const f of ["client.js", "client.d.ts"]) {
      const res = await fetch(`${pg.url}/${f}`);
      if (res.status !== 200) throw new Error(`GET /${f}: ${res.status}`);
      writeFileSync(join(app, "web", f), await res.text());
    }
    writeFileSync(join(app, "web", "page.ts"), PAGE);
  }, 120_000);

  test("the tarball holds the built client, its types and the server source, not the tests", () => {
    for (const f of ["package.json", "dist/client.js", "dist/client.d.ts", "src/main.ts", "src/client/index.ts"]) expect(files).toContain(f);
    expect(files.filter((f) => /^(test|bench|docs|examples|src\/build)\//.test(f))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(app, "node_modules/pushgate/package.json"), "utf8"));
    expect(installed.exports["./client"].types).toBe("./dist/client.d.ts");
  });

  test("tsc --init defaults (nodenext): clean but for the deliberate error", () => {
    const errors = typeErrors([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/deliberate\.ts\(2,14\): error TS2322: Type '.*' is not assignable to type 'number'/);
  }, 60_000);

  test("moduleResolution node16, and bundler: the same; and with the .d.ts itself checked", () => {
    const modes = [["--module", "node16", "--moduleResolution", "node16"], ["--module", "preserve", "--moduleResolution", "bundler"], ["--skipLibCheck", "false"]];
    for (const flags of modes) {
      const errors = typeErrors(flags);
      expect({ flags, errors }).toEqual({ flags, errors: [expect.stringMatching(/^src\/deliberate\.ts\(2,14\): error TS2322/)] });
    }
  }, 60_000);

  test("the module loads from the installed package: in Node the built one, in Bun the source (bun condition)", () => {
    // Which file each runtime resolved, then that it loads and exports the client.
    const probe = `console.log(import.meta.resolve("pushgate/client"));
import("pushgate/client").then((m) => console.log(typeof m.PushgateClient, m.SUBPROTOCOL));`;
    writeFileSync(join(app, "probe.mjs"), probe);
    const installed = "/node_modules/pushgate/";
    const [nodeUrl, nodeLoaded] = must(["node", "probe.mjs"], app).trim().split("\n");
    expect(nodeUrl).toEndWith(`${installed}dist/client.js`);
    expect(nodeLoaded).toBe("function pushgate.v1");
    const [bunUrl, bunLoaded] = must([process.execPath, "probe.mjs"], app).trim().split("\n");
    expect(bunUrl).toEndWith(`${installed}src/client/index.ts`);
    expect(bunLoaded).toBe("function pushgate.v1");
  });

  test("a browser page's script typechecks against /client.d.ts saved beside /client.js", () => {
    expect(readFileSync(join(app, "web", "client.d.ts"), "utf8")).toContain("declare class PushgateClient");
    const errors = typeErrors(["--module", "preserve", "--moduleResolution", "bundler"]);
    expect(errors.filter((l) => l.startsWith("web/"))).toEqual([]);
  }, 60_000);
});
