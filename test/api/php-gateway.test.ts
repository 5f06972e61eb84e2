// examples/php/Gateway.php (Pushgate\Gateway, GatewayWorker's static API over the HTTP API) under
// php-cli against a real server with an API key: a PHP runner script (written to a temp dir)
// `require`s the file, sets Gateway::$registerAddress / $secretKey, calls the methods a JSON
// program names and prints each result (its PHP type too, so 1 is not true) or exception. Real
// seed clients check what each send delivered. A plain Bun.serve stands in for answers a single
// node cannot give on demand (a cluster send's E_CLUSTER_TIMEOUT, a 202, a proxy's 502, no answer).
// Without php the tests skip with a printed reason, except under CI=true where they fail.
import type { Server, Subprocess } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pushgate } from "../../src/server.ts";
import { TestClient, api as apiCall, describeWith, startTestServer, waitFor } from "../helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const GATEWAY = join(ROOT, "examples/php/Gateway.php");
const DOCS = join(ROOT, "docs/gatewayworker.md");
const PHP_BIN = Bun.which("php");
const KEY = "php-gateway-key-0123";

const describePhp = (name: string, fn: () => void) => describeWith("php", PHP_BIN, "apt-get install php-cli", true, name, fn);

/** GatewayWorker's public Gateway:: API (src/Lib/Gateway.php), as PHP prints the signatures. */
const SIGNATURES = [
  "sendToAll($message, $client_id_array = NULL, $exclude_client_id = NULL, $raw = false)",
  "sendToClient($client_id, $message)",
  "sendToCurrentClient($message)",
  "isUidOnline($uid)",
  "isOnline($client_id)",
  "getAllClientInfo($group = '')",
  "getAllClientSessions($group = '')",
  "getClientInfoByGroup($group)",
  "getClientSessionsByGroup($group)",
  "getAllClientIdCount()",
  "getAllClientCount()",
  "getClientIdCountByGroup($group = '')",
  "getClientCountByGroup($group = '')",
  "getClientIdListByGroup($group)",
  "getAllClientIdList()",
  "getClientIdByUid($uid)",
  "getUidListByGroup($group)",
  "getUidCountByGroup($group)",
  "getAllUidList()",
  "getAllUidCount()",
  "getUidByClientId($client_id)",
  "getAllGroupIdList()",
  "getAllGroupUidCount()",
  "getAllGroupUidList()",
  "getAllGroupClientIdList()",
  "getAllGroupClientIdCount()",
  "closeClient($client_id, $message = NULL)",
  "closeCurrentClient($message = NULL)",
  "destoryClient($client_id)",
  "destoryCurrentClient()",
  "bindUid($client_id, $uid)",
  "unbindUid($client_id, $uid)",
  "joinGroup($client_id, $group)",
  "leaveGroup($client_id, $group)",
  "ungroup($group)",
  "sendToUid($uid, $message)",
  "sendToGroup($group, $message, $exclude_client_id = NULL, $raw = false)",
  "setSession($client_id, array $session)",
  "updateSession($client_id, array $session)",
  "getSession($client_id)",
];

/**
 * Reads {config, fill?, calls: [[method, ...args]]} from the file named by argv[1]. An argument
 * {"@bin": base64} is that byte string (JSON cannot carry invalid UTF-8). `fill` opens 4
 * connections to that address first (to fill a backlog-0 listener's queue).
 */
const RUNNER = String.raw`<?php
require getenv('GATEWAY_PHP');

use Pushgate\Gateway;
use Pushgate\GatewayException;

$warnings = [];
set_error_handler(function ($no, $str) use (&$warnings) { $warnings[] = [$no, $str]; return true; });
$p = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
if (!empty($p['reflect'])) {
    $out = ['methods' => [], 'props' => []];
    foreach ((new ReflectionClass(Gateway::class))->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
        if (!$m->isStatic()) continue;
        $args = array_map(function ($a) {
            return ($a->getType() ? $a->getType() . ' ' : '') . '$' . $a->getName() . ($a->isOptional() ? ' = ' . var_export($a->getDefaultValue(), true) : '');
        }, $m->getParameters());
        $out['methods'][] = $m->getName() . '(' . implode(', ', $args) . ')';
    }
    foreach ((new ReflectionClass(Gateway::class))->getStaticProperties() as $k => $v) $out['props'][$k] = $v;
    echo json_encode($out, JSON_UNESCAPED_SLASHES);
    exit;
}
$c = $p['config'];
// The assignments a GatewayClient backend makes, spelled out.
if (array_key_exists('registerAddress', $c)) Gateway::$registerAddress = $c['registerAddress'];
if (array_key_exists('secretKey', $c)) Gateway::$secretKey = $c['secretKey'];
if (array_key_exists('connectTimeout', $c)) Gateway::$connectTimeout = $c['connectTimeout'];
if (array_key_exists('timeout', $c)) Gateway::$timeout = $c['timeout'];
if (array_key_exists('maxAnswerBytes', $c)) Gateway::$maxAnswerBytes = $c['maxAnswerBytes'];
$fill = [];
if (isset($p['fill'])) {
    for ($i = 0; $i < 4; $i++) $fill[] = @stream_socket_client('tcp://' . $p['fill'], $en, $es, 1, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
}
$bin = function ($v) use (&$bin) {
    if (is_array($v) && count($v) === 1 && isset($v['@bin'])) return base64_decode($v['@bin']);
    return is_array($v) ? array_map($bin, $v) : $v;
};
$out = [];
foreach ($p['calls'] as $call) {
    $name = array_shift($call);
    $warnings = [];
    $t = microtime(true);
    try {
        $v = [Gateway::class, $name](...$bin($call));
        $r = ['value' => $v, 'type' => get_debug_type($v)];
    } catch (GatewayException $e) {
        $r = ['threw' => [
            'class' => get_class($e), 'exception' => $e instanceof \Exception, 'errorCode' => $e->getErrorCode(), 'code' => $e->getCode(),
            'message' => $e->getMessage(), 'field' => $e->getField(), 'outcomeUnknown' => $e->isOutcomeUnknown(), 'result' => $e->getResult(),
        ]];
    } catch (\Throwable $e) {
        $r = ['threw' => ['class' => get_class($e), 'message' => $e->getMessage()]];
    }
    $r['ms'] = (int)round((microtime(true) - $t) * 1000);
    if ($warnings) $r['warnings'] = $warnings;
    $out[] = $r;
}
echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
`;

interface Threw { class: string; exception?: boolean; errorCode?: string; code?: number; message: string; field?: string | null; outcomeUnknown?: boolean; result?: unknown }
interface Outcome { value?: unknown; type?: string; threw?: Threw; ms: number; warnings?: [number, string][] }
type Call = [string, ...unknown[]];

const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

describePhp("Pushgate\\Gateway (examples/php/Gateway.php) under php-cli", () => {
  let dir = "";
  let runner = "";
  let runs = 0;
  let pg: Pushgate;
  let a1: TestClient, a2: TestClient, b: TestClient;
  let A1 = "", A2 = "", B = "";
  let UNKNOWN = "";
  const auth = { authorization: `Bearer ${KEY}` };
  const api = (method: string, params: unknown = {}) => apiCall(pg, method, params, auth);
  const idOf = async (uid: string) => (await api("getClientIdByUid", { uid })).body.result as string[];

  /** Runs one PHP program; fails with PHP's stderr when it does not print its JSON. */
  async function php(program: Record<string, unknown>): Promise<any> {
    const file = join(dir, `program-${++runs}.json`);
    writeFileSync(file, JSON.stringify(program));
    const proc = Bun.spawn([PHP_BIN!, "-d", "display_errors=stderr", "-d", "error_reporting=-1", runner, file], {
      env: { ...process.env, GATEWAY_PHP: GATEWAY }, stdin: "ignore", stdout: "pipe", stderr: "pipe",
    });
    started.add(proc);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    started.delete(proc);
    try {
      if (code !== 0) throw new Error(`exit ${code}`);
      return JSON.parse(out);
    } catch (e) {
      throw new Error(`php runner: ${(e as Error).message}; stdout: ${out.slice(0, 2000)}; stderr: ${err.slice(0, 2000)}`);
    }
  }

  /** The calls against pg with the right key (or `config`'s overrides); one outcome per call. */
  const run = (calls: Call[], config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<Outcome[]> =>
    php({ config: { registerAddress: pg.url, secretKey: KEY, ...config }, calls, ...extra });

  /** Each call's value (with its PHP type), or its exception, with no PHP warnings. */
  async function values(calls: Call[]): Promise<unknown[]> {
    const out = await run(calls);
    for (const [i, o] of out.entries()) expect({ call: calls[i]![0], warnings: o.warnings ?? [] }).toEqual({ call: calls[i]![0], warnings: [] });
    return out.map((o) => (o.threw ? { threw: o.threw.errorCode ?? o.threw.message } : o.value));
  }

  const map = (...xs: string[]) => Object.fromEntries(xs.map((x) => [x, x]));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pushgate-php-gateway-"));
    runner = join(dir, "runner.php");
    writeFileSync(runner, RUNNER);
    pg = startTestServer({ apiKey: KEY });
    a1 = await TestClient.login(pg, "alice");
    a2 = await TestClient.login(pg, "alice");
    b = await TestClient.login(pg, "bob");
    const alice = await idOf("alice");
    expect(alice).toHaveLength(2);
    [A1, A2] = alice as [string, string];
    B = (await idOf("bob"))[0]!;
    UNKNOWN = `${A1.slice(0, 8)}ffffffffffff`;
    // room1: alice #1 and bob; room2: both alice connections. Sessions: alice #1's only.
    for (const [clientId, group] of [[A1, "room1"], [B, "room1"], [A1, "room2"], [A2, "room2"]]) {
      expect((await api("joinGroup", { clientId, group })).body).toEqual({ result: 1 });
    }
    expect((await api("setSession", { clientId: A1, session: { name: "Alice", room: "room1" } })).body).toEqual({ result: true });
    expect((await api("updateSession", { clientId: A1, session: { room: null, lang: "en" } })).body).toEqual({ result: true });
  });

  afterAll(async () => {
    for (const c of [a1, a2, b]) c?.[Symbol.dispose]();
    await pg?.server.stop(true);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("it has every GatewayWorker Gateway:: static method, with GatewayWorker's parameters, and its settings", async () => {
    const { methods, props } = await php({ reflect: true });
    for (const sig of SIGNATURES) expect({ sig, present: methods.includes(sig) }).toEqual({ sig, present: true });
    // Beyond GatewayWorker's: only call(), for pushgate's own methods.
    expect(methods.filter((m: string) => !SIGNATURES.includes(m)).map((m: string) => m.slice(0, m.indexOf("(")))).toEqual(["call"]);
    expect(props).toEqual({ registerAddress: "http://127.0.0.1:1234", secretKey: "", connectTimeout: 3, timeout: 10, persistentConnection: false, maxAnswerBytes: 16777216 });
  });

  test("the queries answer in GatewayWorker's shapes: 0|1, maps value=>value, sessions as arrays", async () => {
    const aliceSession = { name: "Alice", lang: "en" };
    const calls: [Call, unknown][] = [
      [["isOnline", A1], 1], [["isOnline", UNKNOWN], 0],
      [["isUidOnline", "alice"], 1], [["isUidOnline", "carol"], 0],
      [["getAllClientCount"], 3], [["getAllClientIdCount"], 3],
      [["getClientIdCountByGroup"], 3], [["getClientIdCountByGroup", "room1"], 2],
      [["getClientCountByGroup", ""], 3], [["getClientCountByGroup", "room2"], 2],
      [["getClientIdListByGroup", "room1"], map(A1, B)], [["getClientIdListByGroup", ["room1", "room2"]], map(A1, B, A2)],
      [["getClientIdListByGroup", ""], []], [["getAllClientIdList"], map(A1, A2, B)],
      [["getClientIdByUid", "carol"], []],
      [["getUidListByGroup", "room1"], map("alice", "bob")], [["getUidListByGroup", "room2"], map("alice")],
      [["getUidCountByGroup", "room1"], 2], [["getUidCountByGroup", "room2"], 1], [["getUidCountByGroup", ["room1", "room2"]], 2],
      [["getUidCountByGroup", ""], 0],
      [["getAllUidList"], map("alice", "bob")], [["getAllUidCount"], 2],
      [["getUidByClientId", B], "bob"], [["getUidByClientId", UNKNOWN], null],
      [["getAllGroupIdList"], map("room1", "room2")],
      [["getAllGroupUidCount"], { room1: 2, room2: 1 }],
      [["getAllGroupUidList"], { room1: map("alice", "bob"), room2: map("alice") }],
      [["getAllGroupClientIdList"], { room1: map(A1, B), room2: map(A1, A2) }],
      [["getAllGroupClientIdCount"], { room1: 2, room2: 2 }],
      [["getAllClientSessions"], { [A1]: aliceSession, [A2]: [], [B]: [] }],
      [["getAllClientSessions", "room1"], { [A1]: aliceSession, [B]: [] }],
      [["getClientSessionsByGroup", "room2"], { [A1]: aliceSession, [A2]: [] }],
      [["getClientSessionsByGroup", ""], []],
      [["getSession", A1], aliceSession], [["getSession", A2], []], [["getSession", UNKNOWN], null],
    ];
    const got = await values(calls.map(([c]) => c));
    expect(got.map((v, i) => [calls[i]![0], v])).toEqual(calls.map(([c, v]) => [c, v]));
    // A list stays a list (GatewayWorker's getClientIdByUid is one).
    expect(((await values([["getClientIdByUid", "alice"]]))[0] as string[]).sort()).toEqual([A1, A2].sort());
    // Counts and flags are PHP ints, not bools or strings.
    const typed = await run([["isOnline", A1], ["isUidOnline", "carol"], ["getAllClientCount"], ["getAllGroupUidCount"]]);
    expect(typed.map((o) => o.type)).toEqual(["int", "int", "int", "array"]);
  });

  test("the deprecated getAllClientInfo / getClientInfoByGroup answer as their new names, with an E_USER_DEPRECATED", async () => {
    const out = await run([["getAllClientInfo"], ["getClientInfoByGroup", "room1"]]);
    expect(out[0]!.value).toEqual((await values([["getAllClientSessions"]]))[0]);
    expect(out[1]!.value).toEqual((await values([["getClientSessionsByGroup", "room1"]]))[0]);
    expect(out.map((o) => o.warnings)).toEqual([
      [[16384, "Gateway::getAllClientInfo is deprecated, use Gateway::getAllClientSessions"]],
      [[16384, "Gateway::getClientInfoByGroup is deprecated, use Gateway::getClientSessionsByGroup"]],
    ]);
  });

  test("every send delivers what GatewayWorker's would, and returns pushgate's answer", async () => {
    const got = await values([
      ["sendToUid", "alice", "hi alice"],
      ["sendToUid", ["alice", "bob", "carol"], "héllo ✓ 100%"],
      ["sendToUid", [], "to nobody"],
      ["sendToClient", B, "just bob"],
      ["sendToGroup", "room1", "room1 minus bob", B],
      ["sendToGroup", ["room1", "room2"], "both rooms"],
      ["sendToGroup", "", "no group"],
      ["sendToAll", "to everyone"],
      ["sendToAll", "all but alice #1", null, A1],
      ["sendToAll", "listed", [A1, B]],
      ["sendToAll", "listed minus bob", map(A1, B), [B], true],
      ["sendToAll", "empty list", []],
      ["sendToUid", "bob", { n: 1 }],
    ]);
    expect(got).toEqual([
      { reached: 2, offline: [] },
      { reached: 3, offline: ["carol"] },
      { reached: 0, offline: [] },
      { reached: 1, offline: [] },
      { reached: 1 },
      { reached: 4 },
      false,
      { reached: 3 },
      { reached: 2 },
      expect.objectContaining({ reached: 2 }),
      expect.objectContaining({ reached: 1 }),
      { reached: 0 },
      { reached: 1, offline: [] },
    ]);
    // One next() at a time: a TestClient has one waiter (the last frames may still be in flight).
    const inbox = async (c: TestClient, n: number) => {
      const got: string[] = [];
      for (let i = 0; i < n; i++) got.push(await c.next());
      return got;
    };
    expect(await inbox(a1, 8)).toEqual(["hi alice", "héllo ✓ 100%", "room1 minus bob", "both rooms", "both rooms", "to everyone", "listed", "listed minus bob"]);
    expect(await inbox(a2, 5)).toEqual(["hi alice", "héllo ✓ 100%", "both rooms", "to everyone", "all but alice #1"]);
    expect(await inbox(b, 7)).toEqual(["héllo ✓ 100%", "just bob", "both rooms", "to everyone", "all but alice #1", "listed", '{"n":1}']);
    expect([await a1.nothingWithin(), await a2.nothingWithin(), await b.nothingWithin()]).toEqual([true, true, true]);
  });

  test("bindUid, groups and sessions on one connection; an unknown client_id answers false, bad names throw", async () => {
    using c = await TestClient.connect(pg); // not logged in: bindUid logs it in
    await waitFor(async () => (await api("getAllClientCount")).body.result === 4, 2000, "the fourth connection");
    const all = (await api("getAllClientIdList")).body.result as string[];
    const C = all.find((id) => ![A1, A2, B].includes(id))!;
    const got = await values([
      ["bindUid", C, 42], ["isUidOnline", 42], ["getUidByClientId", C], ["getClientIdByUid", 42], ["sendToUid", 42, "to 42"],
      ["joinGroup", C, 7], ["getClientIdListByGroup", 7], ["leaveGroup", C, "7"], ["leaveGroup", C, "7"],
      ["setSession", C, { k: "v", n: 1 }], ["getSession", C],
      ["updateSession", C, { n: null, m: [1, 2] }], ["getSession", C],
      ["setSession", C, []], ["getSession", C],
      ["unbindUid", C, "someone-else"], ["unbindUid", C, 42], ["isUidOnline", 42],
      ["joinGroup", C, "g1"], ["ungroup", "g1"], ["ungroup", "g1"], ["ungroup", ""],
      ["bindUid", UNKNOWN, "x"], ["unbindUid", UNKNOWN, "x"], ["joinGroup", UNKNOWN, "g"], ["leaveGroup", UNKNOWN, "g"],
      ["setSession", UNKNOWN, { a: 1 }], ["updateSession", UNKNOWN, { a: 1 }],
      ["joinGroup", C, "bad:group"], ["bindUid", C, "all"],
      ["call", "batch", { calls: [{ method: "isUidOnline", params: { uid: "alice" } }] }], ["call", "nope"],
    ]);
    expect(got).toEqual([
      true, 1, "42", [C], { reached: 1, offline: [] },
      1, map(C), 1, 0,
      true, { k: "v", n: 1 },
      true, { k: "v", m: [1, 2] },
      true, [],
      false, true, 0,
      1, 1, 0, false,
      false, false, false, false,
      false, false,
      { threw: "E_INVALID_GROUP" }, { threw: "E_INVALID_UID" },
      [{ result: true }], { threw: "E_UNKNOWN_METHOD" },
    ]);
    expect(await c.next()).toBe("to 42"); // bindUid gives no login reply, so this is its first frame
    const [bad] = await run([["joinGroup", C, "bad:group"]]);
    expect(bad!.threw).toMatchObject({ class: "Pushgate\\GatewayException", exception: true, code: 400, field: "group", outcomeUnknown: false });
    expect(bad!.threw!.message).toStartWith("E_INVALID_GROUP: group: ");
  });

  test("a message that is not UTF-8 is refused before sending (JSON carries text only)", async () => {
    const [o] = await run([["sendToUid", "bob", { "@bin": Buffer.from([0xff, 0xfe]).toString("base64") }]]);
    expect(o!.threw).toMatchObject({ errorCode: "E_BAD_PARAMS", code: 0, outcomeUnknown: false });
    expect(await b.nothingWithin()).toBe(true);
  });

  test("closeClient sends its message then closes 1000, destoryClient drops at once; the current-client methods throw", async () => {
    const bClosed = b.closed;
    const a2Closed = a2.closed;
    const out = await run([
      ["closeClient", B, "bye"], ["closeClient", UNKNOWN], ["destoryClient", A2], ["destoryClient", UNKNOWN],
      ["sendToCurrentClient", "x"], ["closeCurrentClient"], ["destoryCurrentClient"],
    ]);
    expect(out.slice(0, 4).map((o) => o.value)).toEqual([true, false, true, false]);
    expect(await b.next()).toBe("bye");
    expect((await bClosed).code).toBe(1000);
    expect((await a2Closed).code).not.toBe(1000); // no close handshake
    for (const [i, instead] of [[4, "sendToClient"], [5, "closeClient"], [6, "destoryClient"]] as const) {
      expect(out[i]!.threw).toMatchObject({ exception: true, errorCode: "E_NOT_APPLICABLE", code: 0 });
      expect(out[i]!.threw!.message).toContain(`use Gateway::${instead}(`);
    }
    await waitFor(async () => (await api("getAllClientCount")).body.result === 1, 2000, "bob and alice #2 gone");
  });

  test("a wrong or missing API key throws E_UNAUTHORIZED (401) and sends nothing; the key is trimmed", async () => {
    for (const secretKey of ["wrong-key", "", false]) {
      const [o] = await run([["sendToUid", "alice", "must not arrive"]], { secretKey });
      expect(o!.threw).toMatchObject({ class: "Pushgate\\GatewayException", exception: true, errorCode: "E_UNAUTHORIZED", code: 401, outcomeUnknown: false });
      expect(o!.threw!.message).toStartWith("E_UNAUTHORIZED: ");
    }
    expect(await a1.nothingWithin()).toBe(true);
    const [o] = await run([["getAllClientCount"]], { secretKey: ` ${KEY} ` });
    expect(o!.value).toBe(1);
  });

  test("pushgate down: E_CONNECT_FAILED at once; a connect that hangs ends at $connectTimeout; a list of addresses fails over", async () => {
    const gone = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const down = `http://127.0.0.1:${gone.port}`;
    gone.stop(true);
    const [refused] = await run([["getAllClientCount"]], { registerAddress: down });
    expect(refused!.threw).toMatchObject({ exception: true, errorCode: "E_CONNECT_FAILED", code: 0, outcomeUnknown: false });
    expect(refused!.ms).toBeLessThan(2000);

    // A listener with backlog 0 that never accepts: once its queue is full a SYN gets no answer.
    const hold = Bun.spawn([PHP_BIN!, "-r", `$s = stream_socket_server('tcp://127.0.0.1:0', $e, $m, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, stream_context_create(['socket' => ['backlog' => 0]])); echo stream_socket_get_name($s, false), "\\n"; sleep(30);`], { stdout: "pipe", stderr: "ignore" });
    started.add(hold);
    try {
      const reader = hold.stdout.getReader();
      const address = new TextDecoder().decode((await reader.read()).value).trim();
      const [hung] = await run([["sendToUid", "alice", "never"]], { registerAddress: `http://${address}`, connectTimeout: 0.5 }, { fill: address });
      expect(hung!.threw).toMatchObject({ errorCode: "E_CONNECT_FAILED", outcomeUnknown: false });
      expect(hung!.ms).toBeGreaterThanOrEqual(400);
      expect(hung!.ms).toBeLessThan(3000);
    } finally {
      hold.kill("SIGKILL");
      await hold.exited;
      started.delete(hold);
    }

    // An array: the next address is tried while one cannot be connected to; host:port means http://.
    const [over] = await run([["getAllClientCount"]], { registerAddress: [down, pg.url.replace("http://", "")] });
    expect(over!.value).toBe(1);
    const [bad] = await run([["getAllClientCount"]], { registerAddress: "ftp://127.0.0.1:1234" });
    expect(bad!.threw).toMatchObject({ errorCode: "E_BAD_ADDRESS", outcomeUnknown: false });
  });

  describe("answers a single node does not give on demand (a stand-in HTTP server)", () => {
    let fake: Server<undefined>;
    const seen: { method: string; path: string; auth: string | null; type: string | null; body: string }[] = [];
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

    beforeAll(() => {
      fake = Bun.serve({
        port: 0, hostname: "127.0.0.1",
        async fetch(req) {
          const path = new URL(req.url).pathname;
          seen.push({ method: req.method, path, auth: req.headers.get("authorization"), type: req.headers.get("content-type"), body: await req.text() });
          switch (path) {
            case "/pfx/api/sendToUid": // a cluster send a node did not confirm in time
              return json(200, { result: { reached: 1, offline: [], timedOut: ["bob"], error: { code: "E_CLUSTER_TIMEOUT", message: "node 2 did not answer within 2000 ms" } } });
            case "/pfx/api/setSession":
              return json(202, { error: { code: "E_CLUSTER_TIMEOUT", message: "the owner did not answer", outcome: "unknown" } });
            case "/pfx/api/getAllClientIdList":
              return json(500, { error: { code: "E_INTERNAL", message: "internal error; the call had no effect" } });
            case "/pfx/api/getAllClientCount": // chunked: no Content-Length
              return new Response(new ReadableStream({
                async start(c) {
                  c.enqueue(new TextEncoder().encode('{"res'));
                  await Bun.sleep(20);
                  c.enqueue(new TextEncoder().encode('ult":5}'));
                  c.close();
                },
              }), { headers: { "content-type": "application/json" } });
            case "/pfx/api/getAllUidCount":
              return new Response("<html><body>502 Bad Gateway</body></html>", { status: 502, headers: { "content-type": "text/html" } });
            case "/pfx/api/isOnline":
              return new Promise<Response>(() => {}); // never answers
            case "/pfx/api/getAllClientSessions": // over the test's $maxAnswerBytes (4096)
              return json(200, { result: { c1: { blob: "x".repeat(5000) } } });
            default:
              return json(404, { error: { code: "E_UNKNOWN_METHOD", message: "unknown" } });
          }
        },
      });
    });
    afterAll(() => fake?.stop(true));

    test("each outcome maps to a result or an exception; a send not fully known throws, never passes as success", async () => {
      const out = await php({
        config: { registerAddress: `http://127.0.0.1:${fake.port}/pfx/`, secretKey: "s3", timeout: 0.5 },
        calls: [["sendToUid", "bob", "x"], ["setSession", "c1", []], ["getAllClientIdList"], ["getAllClientCount"], ["getAllUidCount"], ["isOnline", "c1"]],
      });
      const [timedOut, accepted, internal, chunked, proxy, silent] = out as Outcome[];
      expect(timedOut!.threw).toMatchObject({
        errorCode: "E_CLUSTER_TIMEOUT", code: 200, outcomeUnknown: true,
        result: { reached: 1, offline: [], timedOut: ["bob"], error: { code: "E_CLUSTER_TIMEOUT", message: "node 2 did not answer within 2000 ms" } },
      });
      expect(accepted!.threw).toMatchObject({ errorCode: "E_CLUSTER_TIMEOUT", code: 202, outcomeUnknown: true });
      expect(internal!.threw).toMatchObject({ errorCode: "E_INTERNAL", code: 500, outcomeUnknown: false });
      expect(chunked!.value).toBe(5);
      expect(proxy!.threw).toMatchObject({ errorCode: "E_BAD_RESPONSE", code: 502, outcomeUnknown: true });
      expect(proxy!.threw!.message).toContain("502 Bad Gateway");
      expect(silent!.threw).toMatchObject({ errorCode: "E_TIMEOUT", code: 0, outcomeUnknown: true });
      expect(silent!.ms).toBeGreaterThanOrEqual(450);
      expect(silent!.ms).toBeLessThan(3000);
      // The requests: POST under the URL's path, the key as a Bearer, JSON bodies ({} for none).
      expect(seen.slice(0, 4)).toEqual([
        { method: "POST", path: "/pfx/api/sendToUid", auth: "Bearer s3", type: "application/json", body: '{"uid":"bob","data":"x"}' },
        { method: "POST", path: "/pfx/api/setSession", auth: "Bearer s3", type: "application/json", body: '{"clientId":"c1","session":{}}' },
        { method: "POST", path: "/pfx/api/getAllClientIdList", auth: "Bearer s3", type: "application/json", body: "{}" },
        { method: "POST", path: "/pfx/api/getAllClientCount", auth: "Bearer s3", type: "application/json", body: "{}" },
      ]);
    });

    test("an answer over $maxAnswerBytes throws E_BAD_RESPONSE (outcome unknown) instead of exhausting memory", async () => {
      const [big, small] = (await php({
        config: { registerAddress: `http://127.0.0.1:${fake.port}/pfx/`, secretKey: "s3", timeout: 2, maxAnswerBytes: 4096 },
        calls: [["getAllClientSessions"], ["getAllClientCount"]],
      })) as Outcome[];
      expect(big!.threw).toMatchObject({ errorCode: "E_BAD_RESPONSE", outcomeUnknown: true });
      expect(big!.threw!.message).toContain("maxAnswerBytes");
      expect(small!.value).toBe(5);
    });
  });

  test("docs/gatewayworker.md names every method", () => {
    const md = readFileSync(DOCS, "utf8");
    for (const sig of SIGNATURES) {
      const name = sig.slice(0, sig.indexOf("("));
      expect({ name, documented: md.includes(`${name}(`) || md.includes(`\`${name}\``) }).toEqual({ name, documented: true });
    }
  });
});
