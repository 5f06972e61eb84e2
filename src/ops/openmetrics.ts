// The text details both exposition formats need: sample values, escaping, family headers, and
// the OpenMetrics 1.0.0 naming rules (a counter family drops `_total`, its samples keep it).

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** Which exposition a render writes. */
export type Format = "prometheus" | "openmetrics";

/** A sample value: finite numbers as JS prints them (valid in both formats), else NaN/+Inf/-Inf. */
export function sampleValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

/** Label values: backslash, newline and double quote escaped (the same in both formats). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** HELP text: 0.0.4 escapes backslash and newline; OpenMetrics also the double quote. */
function escapeHelp(v: string, format: Format): string {
  const s = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return format === "openmetrics" ? s.replace(/"/g, '\\"') : s;
}

/** The OpenMetrics family name of a counter: without its `_total` suffix. */
export function counterFamily(name: string): string {
  return name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
}

/**
 * The OpenMetrics UNIT of a family, from its name's suffix (the base units used here). A UNIT
 * must be a suffix of the family name, so only a name ending in one is given one.
 */
export function unitOf(family: string): string | null {
  const m = /_(seconds|bytes)$/.exec(family);
  return m ? m[1]! : null;
}

/**
 * A histogram bucket bound as an `le` value: OpenMetrics wants canonical floats ("1.0", "+Inf"),
 * as the Go and Python clients write them; 0.0.4 keeps the JS number text it always had.
 */
export function leValue(b: number, format: Format): string {
  const s = sampleValue(b);
  return format === "openmetrics" && Number.isInteger(b) && !s.includes("e") ? s + ".0" : s;
}

/**
 * HELP, TYPE (and UNIT in OpenMetrics) of one family. `name` is the family name of the format:
 * a counter's caller passes counterFamily(name) for OpenMetrics.
 */
export function familyHeader(out: string[], format: Format, name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${escapeHelp(help, format)}`, `# TYPE ${name} ${type}`);
  if (format !== "openmetrics") return;
  const unit = unitOf(name);
  if (unit !== null) out.push(`# UNIT ${name} ${unit}`);
}

/**
 * Whether an Accept header asks for OpenMetrics rather than the 0.0.4 text: it names
 * application/openmetrics-text (any version) with a q above 0 and at least the q it gives
 * text/plain (its most specific match: text/plain, else text/*, else any type). Prometheus sends
 * openmetrics at q=0.5 and text/plain lower; curl's default (any type) gets the 0.0.4 text.
 */
export function wantsOpenMetrics(accept: string | null): boolean {
  if (!accept) return false;
  let om = 0;
  // q of text/plain, text/*, and any type; -1 while not named.
  const text = [-1, -1, -1];
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      if (!p.startsWith("q=")) continue;
      const n = Number(p.slice(2));
      q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
    }
    if (type === "application/openmetrics-text") om = Math.max(om, q);
    const i = ["text/plain", "text/*", "*/*"].indexOf(type);
    if (i >= 0) text[i] = Math.max(text[i]!, q);
  }
  const textQ = text.find((q) => q >= 0) ?? 0;
  return om > 0 && om >= textQ;
}
