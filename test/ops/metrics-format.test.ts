// /metrics of a real server after real traffic (connections, pushes, a recovery, errors, an rpc
// through an in-process hook, API latency), fetched both ways and parsed by the official Python
// client's parsers: OpenMetrics 1.0.0 when Accept asks for it (strict parser), else the 0.0.4
// text. Needs python3-prometheus-client: skipped with the reason printed when it is missing,
// a failure under CI=true.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Pushgate, startPushgate } from "../../src/server.ts";
import { TestClient, api } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { MISSING_PARSER, type ParsedFamily, findPython, parseExposition } from "./prom-parser.ts";

const python = findPython();
if (!python && process.env.CI === "true") throw new Error(`${MISSING_PARSER}, and CI=true requires it`);
if (!python) console.log(`skipping "/metrics exposition formats": ${MISSING_PARSER}`);

// What Prometheus 2.x sends when it scrapes.
const PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

let pg: Pushgate;
const clients: { close(): void }[] = [];

/** Traffic that gives the families samples: logins, pushes, a recovery, errors, an rpc, closes. */
async function traffic(): Promise<void> {
  const seed = await TestClient.login(pg, "u1");
  clients.push(seed.ws);
  expect((await api(pg, "sendToUid", { uid: "u1", data: "hi" })).status).toBe(200);
  await seed.next();
  await api(pg, "sendToGroup", { group: "nobody", data: "x" });
  await api(pg, "noSuchMethod", {});
  await fetch(`${pg.url}/no-such-path`);
  // A recovery: log in, miss two pushes, log in again asking for them.
  const first = await JsonClient.connect(pg);
  first.send({ type: "auth", uid: "r1" });
  const welcome = await first.next("welcome");
  const { epoch, offset } = welcome.streams.find((s: { stream: string }) => s.stream === "uid:r1");
  const closed = first.closed;
  first.close();
  await closed;
  await api(pg, "sendToUid", { uid: "r1", data: 1 });
  await api(pg, "sendToUid", { uid: "r1", data: 2 });
  const again = await JsonClient.connect(pg);
  clients.push(again);
  again.send({ type: "auth", uid: "r1", recover: { "uid:r1": { epoch, offset } } });
  await again.next("welcome");
  expect((await again.next("push")).data).toBe(1);
  expect((await again.next("push")).data).toBe(2);
  expect((await again.next("recovery")).complete).toBe(true);
  again.send({ type: "rpc", id: 1, method: "add", data: [1, 2] });
  expect((await again.next("reply")).result).toBe(3);
}

beforeAll(async () => {
  if (!python) return;
  pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", historySize: 50 }, { hooks: { rpc: (c) => (c.data as number[]).reduce((a, b) => a + b, 0) } });
  await traffic();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await pg?.shutdown();
});

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name} in ${families.map((x) => x.name).join(", ")}`);
  return f;
}

const PROCESS = ["process_cpu_seconds", "process_resident_memory_bytes", "process_start_time_seconds"];
const PROCESS_LINUX = ["process_virtual_memory_bytes", "process_open_fds", "process_max_fds"];

describe.skipIf(!python)("/metrics exposition formats", () => {
  test("Accept: application/openmetrics-text → OpenMetrics 1.0.0 that the strict parser accepts", async () => {
    for (const accept of [PROMETHEUS_ACCEPT, "application/openmetrics-text", "application/openmetrics-text; version=0.0.1; q=0.3, text/plain; q=0.2"]) {
      const res = await fetch(`${pg.url}/metrics`, { headers: { accept } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
      const text = await res.text();
      expect(text.endsWith("\n# EOF\n")).toBe(true);
      const families = await parseExposition(python!, "openmetrics", text);
      // Counters: family without _total, samples with it.
      const recoveries = family(families, "pushgate_recoveries");
      expect(recoveries.type).toBe("counter");
      expect(recoveries.samples).toContainEqual({ name: "pushgate_recoveries_total", labels: { outcome: "recovered" }, value: 1 });
      expect(family(families, "pushgate_replayed_messages").samples[0]!.value).toBe(2);
      expect(family(families, "pushgate_errors").samples.map((s) => s.labels.code)).toEqual(expect.arrayContaining(["E_NOT_FOUND", "E_UNKNOWN_METHOD"]));
      const api = family(families, "pushgate_api_duration_seconds");
      expect([api.type, api.unit]).toEqual(["histogram", "seconds"]);
      expect(api.samples.some((s) => s.name === "pushgate_api_duration_seconds_count" && s.labels.method === "sendToUid" && Number(s.value) >= 3)).toBe(true);
      expect(family(families, "pushgate_hook_duration_seconds").samples.some((s) => s.labels.kind === "rpc")).toBe(true);
      expect(family(families, "pushgate_hook_requests").samples).toContainEqual({ name: "pushgate_hook_requests_total", labels: { kind: "rpc", outcome: "ok" }, value: 1 });
      expect(family(families, "pushgate_closes").samples.length).toBeGreaterThan(0);
      // Units only where the name ends in one.
      for (const f of families) expect(f.unit === "" || f.name.endsWith(`_${f.unit}`)).toBe(true);
      expect(family(families, "pushgate_connections").unit).toBe("");
      // The process families.
      const names = families.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(process.platform === "linux" ? [...PROCESS, ...PROCESS_LINUX] : PROCESS));
      const cpu = family(families, "process_cpu_seconds");
      expect([cpu.type, cpu.unit, cpu.help, cpu.samples[0]!.name]).toEqual(["counter", "seconds", "Total user and system CPU time spent in seconds.", "process_cpu_seconds_total"]);
      expect(Number(cpu.samples[0]!.value)).toBeGreaterThan(0);
      if (process.platform === "linux") {
        const fds = Number(family(families, "process_open_fds").samples[0]!.value);
        expect(fds).toBeGreaterThanOrEqual(5); // stdio, the listener, the client sockets
        expect(Number(family(families, "process_max_fds").samples[0]!.value)).toBeGreaterThan(fds);
      }
      const start = Number(family(families, "process_start_time_seconds").samples[0]!.value);
      expect(start).toBeLessThanOrEqual(Date.now() / 1000);
      expect(start).toBeGreaterThan(Date.now() / 1000 - 3600);
    }
  });

  test("no Accept, */* or text/plain → the 0.0.4 text, which its parser accepts with the same families", async () => {
    const om = await parseExposition(python!, "openmetrics", await (await fetch(`${pg.url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } })).text());
    for (const headers of [{}, { accept: "*/*" }, { accept: "text/plain;version=0.0.4" }] as Record<string, string>[]) {
      const res = await fetch(`${pg.url}/metrics`, { headers });
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      expect(text).not.toContain("# EOF");
      expect(text).toContain('# TYPE pushgate_recoveries_total counter\npushgate_recoveries_total{outcome="recovered"} 1\n');
      const families = await parseExposition(python!, "prometheus", text);
      // The Python client names a counter family without _total in both formats.
      expect(families.map((f) => [f.name, f.type]).sort()).toEqual(om.map((f) => [f.name, f.type]).sort());
      expect(family(families, "process_cpu_seconds").samples[0]!.name).toBe("process_cpu_seconds_total");
    }
  });

  test("the 0.0.4 text, as the OpenMetrics parser reads it, is what clashed (why negotiation is needed)", async () => {
    const text = await (await fetch(`${pg.url}/metrics`)).text();
    await expect(parseExposition(python!, "openmetrics", text + "# EOF\n")).rejects.toThrow(/Clashing name: pushgate_recoveries_total/);
  });
});
