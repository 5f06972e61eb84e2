// Parsers for option values: each returns the value or a message saying what is expected.

export type Parsed<T> = { value: T } | { problem: string };

const SIZE_UNITS: Record<string, number> = {
  "": 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3,
};
const TIME_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function scaled(raw: string, units: Record<string, number>): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) return null;
  const factor = units[(m[2] ?? "").toLowerCase()];
  if (factor === undefined) return null;
  const n = Number(m[1]) * factor;
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : null;
}

export function parseInteger(raw: string, min: number, max: number): Parsed<number> {
  if (!/^\s*\d+\s*$/.test(raw)) return { problem: `is not a whole number in ${min}..${max}` };
  const n = Number(raw);
  if (n < min || n > max) return { problem: `is not a whole number in ${min}..${max}` };
  return { value: n };
}

export function parseNumber(raw: string, min: number, max: number): Parsed<number> {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    return { problem: `is not a number in ${min}..${max}` };
  }
  return { value: n };
}

/** Bytes: "65536", "64KiB", "1MiB", "1.5MB". */
export function parseSize(raw: string, min: number, max: number): Parsed<number> {
  const n = scaled(raw, SIZE_UNITS);
  if (n === null || n < min || n > max) {
    return { problem: `is not a size in ${min}..${max} bytes (e.g. 65536, 64KiB, 1MiB)` };
  }
  return { value: n };
}

/** Milliseconds: "500", "500ms", "10s", "2m". */
export function parseDuration(raw: string, min: number, max: number): Parsed<number> {
  const n = scaled(raw, TIME_UNITS);
  if (n === null || n < min || n > max) {
    return { problem: `is not a duration in ${min}..${max} ms (e.g. 500ms, 10s, 2m, 1h)` };
  }
  return { value: n };
}

export function parseBoolean(raw: string): Parsed<boolean> {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return { value: true };
  if (["0", "false", "no", "off"].includes(v)) return { value: false };
  return { problem: "is not a boolean (true/false)" };
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[]): Parsed<T> {
  const v = raw.trim() as T;
  if (choices.includes(v)) return { value: v };
  return { problem: `is not one of: ${choices.join(", ")}` };
}
