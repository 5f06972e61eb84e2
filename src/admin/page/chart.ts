// A small line chart on a canvas: a few series over a time window, a zero-based y axis with a
// round maximum, gaps where a value is unknown. Series differ by colour and by dash pattern
// (not by colour alone); the legend under the chart carries the latest values as text.
import { type CanvasEl, type El, doc, win } from "./browser.ts";
import { el, fmtRate } from "./dom.ts";

export interface Line {
  label: string;
  /** A CSS custom property of the page (--c1 …). */
  color: string;
  dash: number[];
  values: (number | null)[];
  /** The legend's number format (a rate's by default). */
  format?: (v: number | null) => string;
}

const HEIGHT = 150;
const PAD = { left: 44, right: 10, top: 10, bottom: 22 };

export function drawChart(canvas: CanvasEl, legend: El, times: number[], lines: Line[], windowMs: number, now: number): void {
  const css = win.getComputedStyle(doc.documentElement);
  const color = (v: string) => css.getPropertyValue(v).trim() || "#000";
  const dpr = win.devicePixelRatio || 1;
  const width = Math.max(200, canvas.clientWidth);
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(HEIGHT * dpr);
  canvas.style.height = `${HEIGHT}px`;
  const g = canvas.getContext("2d");
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, HEIGHT);
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  let max = 0;
  for (const l of lines) for (const v of l.values) if (v !== null && v > max) max = v;
  const top = niceCeil(max);
  const x = (t: number) => PAD.left + ((t - (now - windowMs)) / windowMs) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;

  g.font = "11px system-ui, sans-serif";
  g.fillStyle = color("--muted");
  g.strokeStyle = color("--grid");
  g.lineWidth = 1;
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (const f of [0, 0.5, 1]) {
    const yy = Math.round(y(top * f)) + 0.5;
    g.beginPath();
    g.moveTo(PAD.left, yy);
    g.lineTo(PAD.left + plotW, yy);
    g.stroke();
    g.fillText(short(top * f), PAD.left - 6, yy);
  }
  g.textBaseline = "alphabetic";
  g.textAlign = "left";
  g.fillText(`−${Math.round(windowMs / 60_000)} min`, PAD.left, HEIGHT - 6);
  g.textAlign = "right";
  g.fillText("now", PAD.left + plotW, HEIGHT - 6);

  g.lineWidth = 2;
  g.lineJoin = "round";
  for (const l of lines) {
    g.strokeStyle = color(l.color);
    g.setLineDash(l.dash);
    g.beginPath();
    let drawing = false;
    l.values.forEach((v, i) => {
      if (v === null) {
        drawing = false;
        return;
      }
      const px = x(times[i]!), py = y(v);
      if (drawing) g.lineTo(px, py);
      else g.moveTo(px, py);
      drawing = true;
    });
    g.stroke();
    // A point with no neighbour draws no line: a dot instead.
    g.fillStyle = g.strokeStyle;
    l.values.forEach((v, i) => {
      if (v === null || (l.values[i - 1] ?? null) !== null || (l.values[i + 1] ?? null) !== null) return;
      g.beginPath();
      g.arc(x(times[i]!), y(v), 2.5, 0, 2 * Math.PI);
      g.fill();
    });
  }
  g.setLineDash([]);

  legend.replaceChildren(...lines.flatMap((l, i) => {
    // The latest point, not the last known one: a gap (a node not answering) reads "unknown".
    const now = l.values.at(-1) ?? null;
    const last = [...l.values].reverse().find((v) => v !== null) ?? null;
    const text = now !== null ? (l.format ?? fmtRate)(now) : last === null ? "—" : `unknown (last ${(l.format ?? fmtRate)(last)})`;
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.borderTopColor = `var(${l.color})`;
    swatch.style.borderTopStyle = l.dash.length ? "dashed" : "solid";
    return [...(i > 0 ? [" "] : []), el("span", { class: "key" }, swatch, `${l.label}: ${text}`)];
  }));
}

/** 1, 2, 5 × 10^n at or above v (at least 1). */
function niceCeil(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function short(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(1));
}
