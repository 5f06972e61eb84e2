// Unit level: the Prometheus 0.0.4 text of the existing families is byte for byte what it was
// before OpenMetrics support (test/ops/metrics-0.0.4.txt was rendered by that code from the same
// workout), the OpenMetrics rendering follows its naming rules, Accept negotiation picks the
// right one, and the process_* families read sensible values.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createMetrics } from "../../src/ops/metrics.ts";
import { wantsOpenMetrics } from "../../src/ops/openmetrics.ts";
import { ProcessMetrics } from "../../src/ops/process-metrics.ts";
import { Counter, Gauge, Histogram, ReadCounter, Registry } from "../../src/ops/prometheus.ts";
import { exercise, fixedSources, maskVolatile } from "./exercise.ts";

/** The text without the process_* families (new here, so not in the fixture). */
function withoutProcess(text: string): string {
  return text.split(/(?=^# HELP )/m).filter((block) => !block.startsWith("# HELP process_")).join("");
}

describe("0.0.4 text", () => {
  test("the existing families render exactly as before", () => {
    const m = createMetrics(fixedSources);
    exercise(m);
    const expected = readFileSync(new URL("./metrics-0.0.4.txt", import.meta.url), "utf8");
    expect(withoutProcess(maskVolatile(m.registry.render()))).toBe(expected);
    expect(withoutProcess(maskVolatile(m.registry.render("prometheus")))).toBe(expected);
  });

  test("the process_* families are there, with the official names, types and HELP", () => {
    const text = createMetrics(fixedSources).registry.render();
    expect(text).toContain("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ");
    expect(text).toContain("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n");
    expect(text).toContain("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n");
    if (process.platform === "linux") {
      expect(text).toContain("# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\n");
      expect(text).toContain("# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n");
      expect(text).toContain("# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\n");
    }
  });

  test("non-finite values use the format's spelling", () => {
    const r = new Registry();
    r.add(new Gauge("g_inf", "x", () => Infinity));
    r.add(new Gauge("g_nan", "x", () => NaN));
    expect(r.render()).toBe("# HELP g_inf x\n# TYPE g_inf gauge\ng_inf +Inf\n# HELP g_nan x\n# TYPE g_nan gauge\ng_nan NaN\n");
  });
});

describe("OpenMetrics text", () => {
  test("counter families drop _total, samples keep it; UNIT only for a unit suffix; # EOF last", () => {
    const r = new Registry();
    r.add(new Counter("app_things_total", 'Things "done".\\', ["kind"])).incL(["a"], 2);
    r.add(new ReadCounter("app_cpu_seconds_total", "CPU.", () => 1.5));
    r.add(new Gauge("app_queue", "Waiting.", () => 3));
    r.add(new Gauge("app_heap_bytes", "Heap.", () => 10));
    r.add(new Histogram("app_wait_seconds", "Wait.", [], [0.5, 1])).observe([], 0.7);
    expect(r.render("openmetrics")).toBe([
      "# HELP app_things Things \\\"done\\\".\\\\", "# TYPE app_things counter", 'app_things_total{kind="a"} 2',
      "# HELP app_cpu_seconds CPU.", "# TYPE app_cpu_seconds counter", "# UNIT app_cpu_seconds seconds", "app_cpu_seconds_total 1.5",
      "# HELP app_queue Waiting.", "# TYPE app_queue gauge", "app_queue 3",
      "# HELP app_heap_bytes Heap.", "# TYPE app_heap_bytes gauge", "# UNIT app_heap_bytes bytes", "app_heap_bytes 10",
      "# HELP app_wait_seconds Wait.", "# TYPE app_wait_seconds histogram", "# UNIT app_wait_seconds seconds",
      'app_wait_seconds_bucket{le="0.5"} 0', 'app_wait_seconds_bucket{le="1.0"} 1', 'app_wait_seconds_bucket{le="+Inf"} 1',
      "app_wait_seconds_sum 0.7", "app_wait_seconds_count 1",
      "# EOF", "",
    ].join("\n"));
    // The 0.0.4 text of the same registry keeps the old names and the old le spelling.
    expect(r.render()).toContain('# TYPE app_things_total counter\napp_things_total{kind="a"} 2\n');
    expect(r.render()).toContain('app_wait_seconds_bucket{le="1"} 1\n');
    expect(r.render()).not.toContain("# UNIT");
  });

  test("no family name is used twice, counting the suffixes a type reserves", () => {
    const m = createMetrics(fixedSources);
    exercise(m);
    const types = [...m.registry.render("openmetrics").matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1]!, x[2]!] as const);
    const suffixes: Record<string, string[]> = { counter: ["_total", "_created"], histogram: ["_bucket", "_count", "_sum", "_created"], gauge: [] };
    const seen = new Map<string, string>();
    for (const [name, type] of types) {
      for (const n of [name, ...suffixes[type]!.map((s) => name + s)]) {
        expect(seen.get(n) ?? null).toBeNull();
        seen.set(n, name);
      }
    }
    expect(types.length).toBeGreaterThan(30);
  });
});

describe("Accept negotiation", () => {
  const om = [
    "application/openmetrics-text",
    "application/openmetrics-text; version=1.0.0",
    "application/openmetrics-text;version=0.0.1",
    // Prometheus 2.x and 3.x scrape headers.
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
    "APPLICATION/OpenMetrics-Text; Version=1.0.0",
    "text/plain;q=0, */*, application/openmetrics-text;q=0.1",
  ];
  const text = [
    null, "", "*/*", "text/plain", "text/plain;version=0.0.4",
    "application/openmetrics-text;q=0", "text/plain, application/openmetrics-text;q=0.9",
    "application/openmetrics-text;q=0.5, */*", "application/openmetrics-text;q=nonsense", "application/json",
  ];
  for (const a of om) test(`OpenMetrics for ${JSON.stringify(a)}`, () => expect(wantsOpenMetrics(a)).toBe(true));
  for (const a of text) test(`0.0.4 for ${JSON.stringify(a)}`, () => expect(wantsOpenMetrics(a)).toBe(false));
});

test("process metrics read sensible values", () => {
  const s = new ProcessMetrics().sample();
  expect(s.cpuSeconds).toBeGreaterThan(0);
  expect(s.rss).toBeGreaterThan(1 << 20);
  const now = Date.now() / 1000;
  expect(s.startTime).toBeLessThanOrEqual(now);
  expect(s.startTime).toBeGreaterThan(now - 3600);
  if (process.platform !== "linux") return;
  expect(s.vsize!).toBeGreaterThanOrEqual(s.rss);
  expect(s.openFds!).toBeGreaterThanOrEqual(3);
  expect(s.maxFds!).toBeGreaterThanOrEqual(s.openFds!);
  // Opening a file shows in the count at once.
  const before = new ProcessMetrics().sample().openFds!;
  const fd = openSync(import.meta.path, "r");
  try {
    expect(new ProcessMetrics().sample().openFds!).toBe(before + 1);
  } finally {
    closeSync(fd);
  }
});
