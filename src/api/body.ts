// Reads a request body up to a byte limit without buffering more than the limit.
import { exceedsJsonDepth } from "../core/json-depth.ts";
import { type Result, err, ok } from "../core/result.ts";

/**
 * The body text, or its refusal; null when Bun itself refused it (past its own cap of
 * 2 × limit + 64 KiB it answers a bare 413 and fails the stream): nothing is left to answer.
 */
export async function readBody(req: Request, limit: number): Promise<Result<string> | null> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (declared > limit) return tooLarge(declared, limit);
  // With a Content-Length within the limit, Bun's parser bounds the body: read it natively
  // (much cheaper than iterating the stream, and req.body is not even materialised).
  // Chunked bodies are counted as they arrive.
  try {
    if (Number.isSafeInteger(declared)) return ok(declared === 0 ? "" : await req.text());
    if (!req.body) return ok("");
  } catch (e) {
    return unreadable(e, 0);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of req.body) {
      size += chunk.byteLength;
      if (size > limit) return tooLarge(size, limit);
      chunks.push(chunk);
    }
  } catch (e) {
    // One chunk can take a chunked body past Bun's own cap (2 × limit + 64 KiB) before this
    // count sees it: Bun then fails the stream, having answered 413 itself.
    return unreadable(e, size);
  }
  // TextDecoder drops a leading BOM as req.text() does, so both paths read the same text.
  return ok(new TextDecoder().decode(Buffer.concat(chunks, size)));
}

function unreadable(e: unknown, size: number) {
  if (/maxRequestBodySize/.test(String(e))) return null;
  return err("E_BAD_JSON", `request body could not be read (${size} bytes in): ${String(e).slice(0, 120)}`);
}

function tooLarge(size: number, limit: number) {
  return err("E_BODY_TOO_LARGE", `request body is ${size}+ bytes, over the limit of ${limit} (--api-max-body)`);
}

/** Parses a JSON object body nested at most `maxDepth` deep (checked first); an empty body is {}. */
export function parseJsonObject(text: string, maxDepth: number): Result<Record<string, unknown>> {
  if (exceedsJsonDepth(text, maxDepth)) {
    return err("E_TOO_DEEP", `body nests deeper than ${maxDepth} levels (--max-json-depth)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (text.trim() === "") return ok({});
    return err("E_BAD_JSON", `body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return err("E_BAD_JSON", "body must be a JSON object of named parameters");
  }
  return ok(value as Record<string, unknown>);
}
