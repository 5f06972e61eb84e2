// The reference parsers of the official Python client (Debian: python3-prometheus-client), run
// as a subprocess: `prometheus_client.openmetrics.parser` (strict OpenMetrics 1.0.0) and
// `prometheus_client.parser` (the 0.0.4 text). Found once per test file; when absent the tests
// skip with the reason printed, except under CI=true where they fail.

export interface ParsedSample { name: string; labels: Record<string, string>; value: number | string }
export interface ParsedFamily { name: string; type: string; unit: string; help: string; samples: ParsedSample[] }

const SCRIPT = `
import json, math, sys
mode = sys.argv[1]
if mode == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
def value(v):
    return v if math.isfinite(v) else repr(v)
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": value(s.value)} for s in f.samples]})
print(json.dumps(out))
`;

/** A python3 that imports prometheus_client (pyenv's shim may lack it where /usr/bin's has it). */
export function findPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const r = Bun.spawnSync([py, "-c", "import prometheus_client"], { stdout: "ignore", stderr: "ignore" });
      if (r.exitCode === 0) return py;
    } catch {}
  }
  return null;
}

/** Parses `text` with the Python client; rejects with the parser's own error message. */
export async function parseExposition(python: string, mode: "openmetrics" | "prometheus", text: string): Promise<ParsedFamily[]> {
  const proc = Bun.spawn([python, "-c", SCRIPT, mode], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`the ${mode} parser refused the exposition: ${err.trim().split("\n").at(-1)}`);
  return JSON.parse(out) as ParsedFamily[];
}

export const MISSING_PARSER = "python3 with prometheus_client is not installed (apt-get install python3-prometheus-client)";
