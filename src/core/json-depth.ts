// Nesting depth of JSON text, read before JSON.parse. Parsing a deep document is cheap, but
// everything after it that recurses (JSON.stringify, a walk) costs far more per level and ends
// in a stack overflow around 100,000 levels, so the depth is bounded at the trust boundary.

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_ARRAY = 91; // [
const OPEN_OBJECT = 123; // {
const CLOSE_ARRAY = 93;
const CLOSE_OBJECT = 125;

/**
 * True when `text` nests arrays/objects deeper than `max` (the outermost value counts 1).
 * Exact for valid JSON; for invalid text the answer does not matter (JSON.parse refuses it).
 * One pass, no allocation: strings are skipped with native indexOf.
 */
export function exceedsJsonDepth(text: string, max: number): boolean {
  // Fewer characters than max + 1 cannot hold max + 1 openings.
  if (text.length <= max) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote closing the string that opens at `start`, or -1 when it never closes. */
export function stringEnd(text: string, start: number): number {
  let q = start;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q < 0) return -1;
    // Escaped when preceded by an odd run of backslashes.
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
  }
}
