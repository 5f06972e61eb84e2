// The systemd unit and environment file of docs/deploy.md: read and checked against the option
// parser (every flag and PUSHGATE_* name exists and parses, the stop timeout outlasts the drain,
// LimitNOFILE is above --max-connections), run as the unit would run it (from a checkout, SIGTERM
// → exit 0 in time), and `systemd-analyze verify`ed when that exists (skipped otherwise: no CI
// requirement for it).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logs } from "../cluster/nodes.ts";
import { cleanEnv, describeWith } from "../helpers.ts";
import { ENV_NAMES, ROOT, configOf, deployDoc, docBlock, parseEnvFile, pushgateArgs } from "./deploy-doc.ts";

const UNIT = docBlock("systemd-unit");
const ENV_FILE = docBlock("env-file");
const SYSTEMD_ANALYZE = Bun.which("systemd-analyze");

/** `Key=value` lines of the [Service] section (comments and other sections left out). */
function service(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const line of UNIT.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const s = /^\[(\w+)\]$/.exec(t);
    if (s) { section = s[1]!; continue; }
    if (section !== "Service") continue;
    const eq = t.indexOf("=");
    const key = t.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), t.slice(eq + 1)]);
  }
  return out;
}

const one = (key: string): string => {
  const v = service().get(key);
  if (!v || v.length !== 1) throw new Error(`the unit should set ${key}= once`);
  return v[0]!;
};

/** systemd's `30s` / `1min 30s` / `90` (seconds) in ms. */
function systemdMs(v: string): number {
  let ms = 0;
  for (const [, n, unit] of v.matchAll(/(\d+)\s*(ms|s|min|m|h)?/g)) {
    ms += Number(n) * { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 }[unit ?? "s"]!;
  }
  return ms;
}

const execWords = () => one("ExecStart").split(/\s+/);
const unitEnv = () => parseEnvFile(ENV_FILE);

describe("docs/deploy.md systemd unit, read", () => {
  test("the environment file names only PUSHGATE_* options, unquoted, and its values parse (commented ones too)", () => {
    const env = unitEnv();
    for (const name of Object.keys(env)) expect(ENV_NAMES).toContain(name);
    for (const v of Object.values(env)) expect(v).not.toMatch(/^["']/); // docker --env-file keeps quotes
    const c = configOf([], env);
    expect(c.auth).toBe("jwt");
    expect(c.apiKey).not.toBeNull();
    const commented = [...ENV_FILE.matchAll(/^# (PUSHGATE_[A-Z_]+)=(\S+)$/gm)];
    expect(commented.length).toBeGreaterThan(0);
    for (const [, name, value] of commented) {
      expect(ENV_NAMES).toContain(name!);
      configOf([], { ...env, [name!]: value! });
    }
  });

  test("EnvironmentFile= is the file the doc shows (and the one docker run --env-file reads)", () => {
    const path = /^# (\/\S+)/.exec(ENV_FILE)![1]!;
    expect(one("EnvironmentFile")).toBe(path);
    expect(deployDoc()).toContain(`--env-file ${path}`);
  });

  test("ExecStart is a pushgate command whose options parse with that environment", () => {
    const c = configOf(pushgateArgs(execWords()), unitEnv());
    expect(c.host).toBe("127.0.0.1"); // nginx in front on the same host
  });

  test("the stop timeout outlasts --drain-timeout (+2 s with --workers); SIGTERM is the stop signal; KillMode=mixed", () => {
    const c = configOf(pushgateArgs(execWords()), unitEnv());
    const needed = c.drainTimeoutMs + (c.workers > 1 ? 2000 : 0);
    expect(systemdMs(one("TimeoutStopSec"))).toBeGreaterThan(needed);
    expect(one("KillSignal")).toBe("SIGTERM");
    expect(one("KillMode")).toBe("mixed");
  });

  test("LimitNOFILE is well above --max-connections", () => {
    const c = configOf(pushgateArgs(execWords()), unitEnv());
    expect(Number(one("LimitNOFILE"))).toBeGreaterThan(c.maxConnections * 2);
  });

  test("RestartPreventExitStatus=2 is the exit code of a bad option", async () => {
    expect(one("RestartPreventExitStatus")).toBe("2");
    const p = Bun.spawn([process.execPath, "src/main.ts", "--no-such-option"], { cwd: ROOT, env: cleanEnv(), stdout: "ignore", stderr: "pipe" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toContain("unknown option --no-such-option");
  });
});

describe("docs/deploy.md systemd unit, run as the unit runs it", () => {
  // The unit's own command and Environment= lines, with Bun from this machine and a free port.
  const cmd = () => [process.execPath, ...execWords().slice(1), "--port", "0"];
  const extra = () => Object.fromEntries((service().get("Environment") ?? []).map((kv) => kv.split("=", 2) as [string, string]));

  test("with the environment file's REPLACE-ME placeholders left in, pushgate refuses to start with exit 2 (RestartPreventExitStatus: no restart loop)", async () => {
    expect(Object.values(unitEnv())).toContain("REPLACE-ME");
    const p = Bun.spawn(cmd(), { cwd: ROOT, env: cleanEnv({ ...unitEnv(), ...extra() }), stdout: "ignore", stderr: "pipe" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toContain("HS256 needs at least 32");
  });

  test("from a checkout with its environment: listens, then SIGTERM drains and exits 0 within TimeoutStopSec", async () => {
    const env = Object.fromEntries(Object.entries(unitEnv()).map(([k, v]) => [k, v === "REPLACE-ME" ? crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "") : v]));
    const p = Bun.spawn(cmd(), { cwd: ROOT, env: cleanEnv({ ...env, ...extra() }), stdout: "pipe", stderr: "pipe" });
    try {
      const logs = new Logs(p.stdout as ReadableStream<Uint8Array>);
      const up = await logs.nth("listening");
      expect(up.auth).toBe("jwt");
      expect(up.host).toBe("127.0.0.1");
      expect((await fetch(`http://127.0.0.1:${up.port}/healthz`)).status).toBe(200);
      const t0 = performance.now();
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(performance.now() - t0).toBeLessThan(systemdMs(one("TimeoutStopSec")));
      await logs.nth("shutdown_done");
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  });
});

describeWith("systemd-analyze", SYSTEMD_ANALYZE, "it comes with systemd", false, "docs/deploy.md systemd unit, systemd-analyze verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "pushgate-unit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("verifies without a complaint", async () => {
    // verify checks that the executable exists: point it at this machine's Bun.
    const unit = UNIT.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`);
    const path = join(dir, "pushgate.service");
    writeFileSync(path, unit);
    const p = Bun.spawn([SYSTEMD_ANALYZE!, "verify", path], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    // Unknown keys and bad values are only warnings (exit 0): any line about this unit fails.
    const complaints = `${out}\n${err}`.split("\n").filter((l) => l.includes("pushgate.service"));
    expect({ code, complaints }).toEqual({ code: 0, complaints: [] });
  });
});
