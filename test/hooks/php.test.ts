// The PHP backend of examples/php under `php -S` (Debian's php-cli) against the real entry point
// (`bun src/main.ts --auth hook …` as a subprocess): an HTTP login to the PHP app gives a session
// cookie that logs the WebSocket in, PHP answers rpc and seed messages, and the webhook POSTs
// pass the verification lines docs/hooks.md gives — the same lines, compared here. Without php
// the tests skip with a printed reason, except under CI=true where a missing php fails the run.
import type { Subprocess } from "bun";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Line, Logs, until } from "../cluster/nodes.ts";
import { type ApiAnswer, describeWith, metricValue } from "../helpers.ts";
import { HeaderClient } from "./backend.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "src/main.ts");
const EXAMPLE = join(ROOT, "examples/php/pushgate-backend.php");
const DOCS = join(ROOT, "docs/hooks.md");
const PHP_BIN = Bun.which("php");
const SECRET = "php-webhook-secret-0123";

const describePhp = (name: string, fn: () => void) => describeWith("php", PHP_BIN, "apt-get install php-cli", true, name, fn);

const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

/** The last `max` characters of a stream, read in the background (a full pipe would block the child). */
function tail(stream: ReadableStream<Uint8Array>, max = 16_384): { text: string } {
  const out = { text: "" };
  void (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) out.text = (out.text + dec.decode(chunk, { stream: true })).slice(-max);
    } catch {}
  })();
  return out;
}

/** The caller's environment without PUSHGATE_* (and PHP_CLI_SERVER_*): only this file configures its children. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("PUSHGATE_") && !k.startsWith("PHP_CLI_SERVER") && v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

/** A PHP line as compared: cut at a `/*` comment (`//` is not one: 'php://input'), trimmed. */
const code = (line: string) => line.split("/*")[0]!.trim();

/** The ```php block of docs/hooks.md's "Webhooks" section, its code lines. */
function docsWebhookLines(): string[] {
  const md = readFileSync(DOCS, "utf8");
  const section = md.indexOf("## Webhooks");
  const open = md.indexOf("```php", section);
  const close = md.indexOf("```", open + 6);
  if (section < 0 || open < 0 || close < 0) throw new Error("docs/hooks.md has no ```php block under ## Webhooks");
  return md.slice(open + 6, close).split("\n").map(code).filter((l) => l !== "");
}

/** The example's code lines between its `--- begin: docs/hooks.md` and `--- end ---` markers. */
function exampleWebhookLines(): string[] {
  const lines = readFileSync(EXAMPLE, "utf8").split("\n").map(code);
  const from = lines.findIndex((l) => l.startsWith("// --- begin: docs/hooks.md"));
  const to = lines.indexOf("// --- end ---", from);
  if (from < 0 || to < 0) throw new Error("examples/php/pushgate-backend.php lost its docs markers");
  return lines.slice(from + 1, to);
}

interface PhpServer { proc: Subprocess<"ignore", "ignore", "pipe">; url: string; log: { text: string } }

/**
 * `php -S` on the example, on port 0 (php binds a free port and names it on stderr). Every
 * warning or notice is shown in the answer, so one breaks the JSON (and the test) instead of
 * hiding in a log.
 */
async function startPhp(dir: string, env: Record<string, string>): Promise<PhpServer> {
  const proc = Bun.spawn([
    PHP_BIN!, "-d", `session.save_path=${join(dir, "sessions")}`, "-d", "display_errors=1", "-d", "error_reporting=-1",
    "-S", "127.0.0.1:0", EXAMPLE,
  ], { env: cleanEnv(env), stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  started.add(proc);
  const log = tail(proc.stderr);
  const port = await until(() => {
    if (proc.exitCode !== null) throw new Error(`php -S exited ${proc.exitCode}: ${log.text}`);
    return /Development Server \(http:\/\/127\.0\.0\.1:(\d+)\) started/.exec(log.text)?.[1];
  }, "php -S to start", 10_000);
  return { proc, url: `http://127.0.0.1:${port}`, log };
}

/** Ends a child this file started (by PID) and waits for it. */
async function stop(p: Subprocess | undefined): Promise<void> {
  if (!p) return;
  if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await Promise.race([p.exited, Bun.sleep(5000)]);
  started.delete(p);
}

describePhp("a PHP backend under php -S", () => {
  let dir = "";
  let eventsFile = "";
  let php: PhpServer | undefined;
  let phpLog = { text: "" };
  let phpUrl = "";
  let pg: Subprocess<"ignore", "pipe", "pipe">;
  let pgErr: ReturnType<typeof tail>;
  let logs: Logs;
  let port = 0;

  const pgUrl = () => `http://127.0.0.1:${port}`;

  async function api(method: string, params: unknown): Promise<ApiAnswer> {
    const res = await fetch(`${pgUrl()}/api/${method}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params), signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json() };
  }

  /** GET /login on the PHP app: the PHPSESSID cookie of a fresh PHP session for `uid`. */
  async function loginCookie(uid: string, rooms = ""): Promise<string> {
    const res = await fetch(`${phpUrl}/login?uid=${encodeURIComponent(uid)}&rooms=${encodeURIComponent(rooms)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ uid, rooms: rooms === "" ? [] : rooms.split(",") });
    const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]!).filter((c) => c.startsWith("PHPSESSID="));
    expect(cookies.length).toBeGreaterThan(0);
    return cookies.at(-1)!; // after session_regenerate_id the last one counts, as in a browser
  }

  /** The login's first answer; a close instead fails with its code and reason and the logs' tails. */
  async function loginAnswer(c: HeaderClient): Promise<string> {
    const closed = c.closed.then(({ code, reason }) => {
      throw new Error(`closed ${code} "${reason}" at login; php -S: ${phpLog.text.slice(-2000)}; pushgate: ${JSON.stringify(logs.lines.slice(-5))} ${pgErr.text}`);
    });
    return Promise.race([c.next(), closed]);
  }

  /** A seed socket with this Cookie header, logged in (its first frame is the credential). */
  async function seedSocket(cookie: string, uid: string): Promise<HeaderClient> {
    const c = new HeaderClient(port, { Cookie: cookie });
    await c.opened;
    c.send("hello");
    expect(await loginAnswer(c)).toBe(`login success, your uid is ${uid}`);
    return c;
  }

  /** The close a socket gets whose login the backend refuses. */
  async function refused(headers: Record<string, string>): Promise<{ code: number; reason: string }> {
    const c = new HeaderClient(port, headers);
    await c.opened;
    c.send("hello");
    return c.closed;
  }

  function events(): Line[] {
    let text = "";
    try {
      text = readFileSync(eventsFile, "utf8");
    } catch {}
    return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Line);
  }

  /** POSTs `body` to the PHP webhook endpoint, signed like pushgate signs (docs/hooks.md). */
  function postWebhook(body: string, ts: string, secret = SECRET, url = phpUrl): Promise<Response> {
    const sig = `sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`;
    return fetch(`${url}/webhook`, {
      method: "POST", body, headers: { "content-type": "application/json", "x-pushgate-timestamp": ts, "x-pushgate-signature": sig },
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pushgate-php-"));
    mkdirSync(join(dir, "sessions"));
    eventsFile = join(dir, "events.jsonl");
    php = await startPhp(dir, { PUSHGATE_WEBHOOK_SECRET: SECRET, PUSHGATE_EVENTS_FILE: eventsFile });
    phpUrl = php.url;
    phpLog = php.log;

    pg = Bun.spawn([
      "bun", MAIN, "--port", "0", "--host", "127.0.0.1", "--log-level", "info",
      "--auth", "hook", "--hook-url", `${phpUrl}/hook`, "--seed-messages", "backend",
      "--webhook-url", `${phpUrl}/webhook`, "--webhook-secret", SECRET, "--webhook-batch", "20ms",
      "--webhook-events", "connection.open,connection.close",
    ], { env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    started.add(pg);
    logs = new Logs(pg.stdout);
    pgErr = tail(pg.stderr);
    try {
      port = (await logs.nth("listening", 1, 15_000)).port as number;
    } catch (e) {
      throw new Error(`pushgate did not start: ${(e as Error).message}; stderr: ${pgErr.text}`);
    }
  });

  afterAll(async () => {
    await stop(pg);
    await stop(php?.proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an HTTP login to the PHP app gives a cookie that logs the WebSocket in; a push to that uid arrives", async () => {
    const cookie = await loginCookie("ann", "staff,ops");
    const c = await seedSocket(`theme=dark; ${cookie}`, "ann");
    expect(await api("sendToUid", { uid: "ann", data: "pushed to ann" })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe("pushed to ann");
    // The session's rooms are the socket's groups; the hook's session is the connection's.
    expect((await api("getClientCountByGroup", { group: "ops" })).body.result).toBe(1);
    const clientId = (await api("getClientIdByUid", { uid: "ann" })).body.result[0];
    expect((await api("getSession", { clientId })).body.result).toEqual({ via: "php" });
    c.close();
    await c.closed;
  });

  test("an unknown, malformed or missing cookie is refused: close 1008 with PHP's reason", async () => {
    const refusals = async () => metricValue(await (await fetch(`${pgUrl()}/metrics`)).text(), 'pushgate_hook_requests_total{kind="connect",outcome="refused"}');
    const before = await refusals();
    expect(await refused({ Cookie: "PHPSESSID=nosuchsession0123" })).toEqual({ code: 1008, reason: "E_AUTH_FAILED: not logged in" });
    // A malformed id would make session_start() warn into the answer (then it is no JSON: 1013).
    expect(await refused({ Cookie: "PHPSESSID=../etc" })).toEqual({ code: 1008, reason: "E_AUTH_FAILED: no session cookie" });
    expect(await refused({})).toEqual({ code: 1008, reason: "E_AUTH_FAILED: no session cookie" });
    expect(await refusals()).toBe(before + 3); // refusals (4xx), not backend faults
  });

  test("a seed frame after the login goes to PHP (--seed-messages backend); its reply comes back, in order", async () => {
    const c = await seedSocket(await loginCookie("seeder"), "seeder");
    for (const m of ["one", "two", "drei ü"]) c.send(m);
    expect([await c.next(), await c.next(), await c.next()]).toEqual(["seeder said: one", "seeder said: two", "seeder said: drei ü"]);
    c.close();
    await c.closed;
  });

  test("pushgate.v1 rpc frames are answered by PHP: a result, and a refusal as E_BACKEND_ERROR with PHP's error", async () => {
    const j = new HeaderClient(port, { Cookie: await loginCookie("bob") }, "pushgate.v1");
    await j.opened;
    j.send(JSON.stringify({ type: "auth", token: "from-the-cookie" }));
    expect(JSON.parse(await loginAnswer(j))).toMatchObject({ type: "welcome", uid: "bob" });
    j.send(JSON.stringify({ type: "rpc", id: 1, method: "echo", data: { n: 7, s: "x" } }));
    expect(JSON.parse(await j.next())).toEqual({ type: "reply", id: 1, result: { uid: "bob", data: { n: 7, s: "x" } } });
    j.send(JSON.stringify({ type: "rpc", id: "two", method: "add", data: { a: 2, b: 3.5 } }));
    expect(JSON.parse(await j.next())).toEqual({ type: "reply", id: "two", result: 5.5 });
    j.send(JSON.stringify({ type: "rpc", id: 3, method: "add", data: { a: "2" } }));
    expect(JSON.parse(await j.next())).toEqual({
      type: "reply", id: 3,
      error: { code: "E_BACKEND_ERROR", message: "the backend refused the call (422)", detail: { code: "BAD_ARGS", message: "add needs numbers a and b" } },
    });
    j.send(JSON.stringify({ type: "rpc", id: 4, method: "nope" }));
    expect(JSON.parse(await j.next())).toEqual({
      type: "reply", id: 4,
      error: { code: "E_BACKEND_ERROR", message: "the backend refused the call (404)", detail: { code: "NO_METHOD", message: "no method nope" } },
    });
    j.close();
    await j.closed;
  });

  test("pushgate's webhook POSTs pass PHP's signature check: connection.open and connection.close are recorded", async () => {
    const c = await seedSocket(await loginCookie("carol"), "carol");
    const clientId = (await api("getClientIdByUid", { uid: "carol" })).body.result[0] as string;
    c.ws.close(4000, "bye");
    await c.closed;
    const mine = await until(() => {
      const e = events().filter((x) => x.clientId === clientId);
      return e.length >= 2 && e;
    }, "carol's two events in the PHP events file", 10_000);
    expect(mine.map((e) => [e.name, e.uid])).toEqual([["connection.open", "carol"], ["connection.close", "carol"]]);
    expect(mine[1]).toMatchObject({ code: 4000, reason: "bye", session: { via: "php" } });
    const m = await (await fetch(`${pgUrl()}/metrics`)).text();
    expect(metricValue(m, 'pushgate_webhook_posts_total{status="200"}')).toBeGreaterThan(0);
    expect(metricValue(m, 'pushgate_webhook_posts_total{status="401"}')).toBe(0);
  });

  test("PHP answers 401 to a wrong signature, a wrong key or an old timestamp, records nothing, and records a good one once", async () => {
    const event = { id: "test-1", name: "connection.open", time_ms: Date.now(), clientId: "c-test", uid: "mallory" };
    const body = JSON.stringify({ time_ms: Date.now(), events: [event] });
    const now = String(Date.now());
    const tampered = await fetch(`${phpUrl}/webhook`, {
      method: "POST", body, headers: { "x-pushgate-timestamp": now, "x-pushgate-signature": `sha256=${"0".repeat(64)}` },
    });
    expect(tampered.status).toBe(401);
    expect((await fetch(`${phpUrl}/webhook`, { method: "POST", body, headers: { "x-pushgate-timestamp": now } })).status).toBe(401);
    expect((await postWebhook(body, now, "another-secret-of-16")).status).toBe(401);
    expect((await postWebhook(body, String(Date.now() - 301_000))).status).toBe(401);
    expect(events().filter((e) => e.uid === "mallory")).toEqual([]);
    // The test's own signing matches PHP's check; a repeated id (a retry) is recorded once.
    expect((await postWebhook(body, now)).status).toBe(200);
    expect((await postWebhook(body, String(Date.now()))).status).toBe(200);
    expect(events().filter((e) => e.uid === "mallory")).toEqual([event]);
  });

  test("with PUSHGATE_WEBHOOK_SECRET unset PHP answers 500: no POST passes, not even one signed with an empty key", async () => {
    const bare = await startPhp(dir, { PUSHGATE_EVENTS_FILE: join(dir, "bare-events.jsonl") });
    try {
      const body = JSON.stringify({ time_ms: Date.now(), events: [{ id: "bare-1", name: "connection.open", uid: "mallory" }] });
      expect((await postWebhook(body, String(Date.now()), "", bare.url)).status).toBe(500);
      expect((await postWebhook(body, String(Date.now()), SECRET, bare.url)).status).toBe(500);
      expect(existsSync(join(dir, "bare-events.jsonl"))).toBe(false);
    } finally {
      await stop(bare.proc);
    }
  });

  test("docs/hooks.md's PHP verification lines are the example's, line for line", () => {
    const docs = docsWebhookLines();
    expect(docs[0]).toBe("<?php");
    const lines = docs.slice(1);
    // The lines that carry the check, so an empty or moved block cannot pass.
    for (const key of ["$body = file_get_contents('php://input');", "hash_hmac('sha256', $ts . '.' . $body", "hash_equals($want,", "http_response_code(401); exit;"]) {
      expect(lines.some((l) => l.includes(key))).toBe(true);
    }
    // Each docs line appears, in order, in the example's marked block (which may add lines, e.g.
    // the loop's body where the docs have a comment).
    const example = exampleWebhookLines();
    let at = 0;
    for (const line of lines) {
      const found = example.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
    expect(readFileSync(EXAMPLE, "utf8").startsWith("<?php\n")).toBe(true);
  });
});
