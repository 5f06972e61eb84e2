// The real entry point as a subprocess: flags, env, start-up errors, graceful shutdown.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "./helpers.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  return Bun.spawn(["bun", MAIN, ...args], {
    env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe",
  });
}

/** JSON log lines from a child's stdout; `until(event)` resolves with the first line of that event. */
class LogLines {
  readonly seen: any[] = [];
  private buf = "";
  private readonly dec = new TextDecoder();
  constructor(private readonly reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }) {}

  async until(event: string): Promise<any> {
    for (;;) {
      const hit = this.seen.find((l) => l.event === event);
      if (hit) return hit;
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`stdout ended before ${event}`);
      this.buf += this.dec.decode(value);
      let nl;
      while ((nl = this.buf.indexOf("\n")) !== -1) {
        this.seen.push(JSON.parse(this.buf.slice(0, nl)));
        this.buf = this.buf.slice(nl + 1);
      }
    }
  }
}

test("--help prints every option and exits 0", async () => {
  const p = run(["--help"]);
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  for (const flag of ["--port", "--max-payload", "--api-key", "PUSHGATE_LOGIN_TIMEOUT"]) expect(out).toContain(flag);
});

test("a bad value fails at start with an exact message", async () => {
  const p = run(["--port", "70000"]);
  expect(await p.exited).toBe(2);
  expect(await new Response(p.stderr).text()).toBe('pushgate: invalid value for --port: "70000" is not a whole number in 0..65535\n');
});

test("a bad env value names the env var", async () => {
  const p = run([], { PUSHGATE_MAX_PAYLOAD: "lots" });
  expect(await p.exited).toBe(2);
  expect(await new Response(p.stderr).text()).toContain('invalid value for PUSHGATE_MAX_PAYLOAD: "lots"');
});

test("conflicting options fail at start", async () => {
  const p = run(["--rate-limit", "10", "--rate-burst", "0"]);
  expect(await p.exited).toBe(2);
  expect(await new Response(p.stderr).text()).toBe(
    "pushgate: conflicting options: --rate-burst (PUSHGATE_RATE_BURST) must be at least 1 when --rate-limit is above 0\n",
  );
});

test("a value that can never work exits 2; what may work later (a missing file) exits 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pushgate-main-"));
  try {
    const rules = join(dir, "rules.json");
    writeFileSync(rules, "{not json");
    const bad = run(["--port", "0", "--channel-rules", rules]);
    expect(await bad.exited).toBe(2);
    expect(await new Response(bad.stderr).text()).toStartWith(`pushgate: cannot start: invalid --channel-rules ${rules}: not JSON`);
    const missing = run(["--port", "0", "--channel-rules", join(dir, "absent.json")]);
    expect(await missing.exited).toBe(1);
    expect(await new Response(missing.stderr).text()).toStartWith("pushgate: cannot start: cannot read --channel-rules");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("starts, serves the seed protocol, and drains on SIGTERM with 1001", async () => {
  const p = run(["--port", "0", "--host", "127.0.0.1"], { PUSHGATE_LOGIN_TIMEOUT: "30s" });
  const logs = new LogLines(p.stdout.getReader());
  try {
    const listening = await logs.until("listening");
    const insecure = await logs.until("insecure_auth");
    expect(insecure.level).toBe("warn");
    const node = { port: listening.port as number };
    using a = await TestClient.login(node, "1");
    using b = await TestClient.login(node, "2");
    a.send("2:hello from 1");
    expect(await b.next()).toBe("hello from 1");
    const health = await (await fetch(`http://127.0.0.1:${node.port}/healthz`)).json();
    expect(health).toMatchObject({ status: "ok", connections: 2 });
    const t0 = performance.now();
    p.kill("SIGTERM");
    expect(await a.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await b.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await p.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await logs.until("shutdown_done")).toMatchObject({ closed: 2, forced: 0 });
    const refused = await fetch(`http://127.0.0.1:${node.port}/healthz`).then(() => "answered", () => "refused");
    expect(refused).toBe("refused");
  } finally {
    p.kill();
  }
});

test("SIGINT also exits 0", async () => {
  const p = run(["--port", "0", "--host", "127.0.0.1"]);
  await new LogLines(p.stdout.getReader()).until("listening");
  p.kill("SIGINT");
  expect(await p.exited).toBe(0);
});
