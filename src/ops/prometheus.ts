// Minimal metrics registry: counters, gauges (read on scrape) and histograms, rendered as the
// Prometheus 0.0.4 text or as OpenMetrics 1.0.0 (src/ops/openmetrics.ts). Counters keyed by
// their label values so an increment is one Map lookup, no allocation for unlabelled counters.
import { type Format, counterFamily, escapeLabel as esc, familyHeader, leValue, sampleValue } from "./openmetrics.ts";

type Labels = readonly string[];

/** One or more families in the registry; `format` picks the exposition. */
export interface Metric {
  render(out: string[], format?: Format): void;
}

function labelText(names: Labels, values: readonly string[]): string {
  if (names.length === 0) return "";
  return "{" + names.map((n, i) => `${n}="${esc(values[i] ?? "")}"`).join(",") + "}";
}

/** One labelled series; hot paths keep a reference and call inc() without allocating. */
export class CounterSeries {
  n = 0;
  constructor(readonly values: readonly string[]) {}
  inc(by = 1): void {
    this.n += by;
  }
}

export class Counter implements Metric {
  private value = 0;
  private readonly byLabel = new Map<string, CounterSeries>();
  constructor(readonly name: string, readonly help: string, readonly labels: Labels = []) {}

  inc(n = 1): void {
    this.value += n;
  }

  /** Increment the series with these label values (one value per label name). */
  incL(values: readonly string[], n = 1): void {
    this.series(values).n += n;
  }

  /** The series for these label values, created on first use. */
  series(values: readonly string[]): CounterSeries {
    const key = values.join("\u0000");
    let s = this.byLabel.get(key);
    if (!s) {
      s = new CounterSeries([...values]);
      this.byLabel.set(key, s);
    }
    return s;
  }

  get(values: readonly string[] = []): number {
    if (values.length === 0 && this.labels.length === 0) return this.value;
    return this.byLabel.get(values.join("\u0000"))?.n ?? 0;
  }

  render(out: string[], format: Format = "prometheus"): void {
    const sample = counterHeader(out, format, this.name, this.help);
    if (this.labels.length === 0) out.push(`${sample} ${sampleValue(this.value)}`);
    for (const s of this.byLabel.values()) out.push(`${sample}${labelText(this.labels, s.values)} ${sampleValue(s.n)}`);
  }
}

/** Writes a counter's HELP/TYPE and returns its sample name (OpenMetrics: family without `_total`). */
function counterHeader(out: string[], format: Format, name: string, help: string): string {
  if (format !== "openmetrics") {
    familyHeader(out, format, name, "counter", help);
    return name;
  }
  const family = counterFamily(name);
  familyHeader(out, format, family, "counter", help);
  return family + "_total";
}

/** An unlabelled counter kept elsewhere (e.g. CPU seconds, by the kernel) and read on scrape. */
export class ReadCounter implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number) {}

  render(out: string[], format: Format = "prometheus"): void {
    out.push(`${counterHeader(out, format, this.name, this.help)} ${sampleValue(this.read())}`);
  }
}

export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number) {}

  render(out: string[], format: Format = "prometheus"): void {
    familyHeader(out, format, this.name, "gauge", this.help);
    out.push(`${this.name} ${sampleValue(this.read())}`);
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { values: string[]; counts: number[]; sum: number; n: number }>();
  constructor(
    readonly name: string, readonly help: string, readonly labels: Labels,
    readonly buckets: readonly number[],
  ) {}

  observe(values: readonly string[], v: number): void {
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      s = { values: [...values], counts: new Array(this.buckets.length).fill(0), sum: 0, n: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.n++;
  }

  render(out: string[], format: Format = "prometheus"): void {
    familyHeader(out, format, this.name, "histogram", this.help);
    const les = this.buckets.map((b) => leValue(b, format));
    for (const s of this.series.values()) {
      const base = this.labels.map((n, i) => `${n}="${esc(s.values[i] ?? "")}"`);
      les.forEach((le, i) => {
        out.push(`${this.name}_bucket{${[...base, `le="${le}"`].join(",")}} ${s.counts[i]}`);
      });
      out.push(`${this.name}_bucket{${[...base, 'le="+Inf"'].join(",")}} ${s.n}`);
      const lt = base.length ? `{${base.join(",")}}` : "";
      out.push(`${this.name}_sum${lt} ${sampleValue(s.sum)}`, `${this.name}_count${lt} ${s.n}`);
    }
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  /** The Prometheus 0.0.4 text (the default), or OpenMetrics 1.0.0 ending in `# EOF`. */
  render(format: Format = "prometheus"): string {
    const out: string[] = [];
    for (const m of this.metrics) m.render(out, format);
    if (format === "openmetrics") out.push("# EOF");
    return out.join("\n") + "\n";
  }
}
