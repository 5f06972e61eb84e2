// Error frames and closes with a stable code, counted in pushgate_errors_total (both wire formats).
import type { Conn } from "../core/conn-data.ts";
import { CloseCode, type ErrorCode, MAX_CLOSE_REASON_BYTES } from "../core/errors.ts";

/** Sends {"type":"error","code":…,"message":…[,"id":…]} as a text frame. */
export function sendError(ws: Conn, code: ErrorCode, message: string, id?: string | number): void {
  const hub = ws.data.hub;
  hub.metrics.errors.incL([code]);
  if (!ws.data.v1 && hub.config.seedErrors === "silent") return;
  const idPart = id === undefined ? "" : `,"id":${JSON.stringify(id)}`;
  ws.send(`{"type":"error","code":"${code}","message":${JSON.stringify(message)}${idPart}}`);
}

/** An error frame for a frame the server could not take; too many of them close the socket. */
export function badFrame(ws: Conn, code: ErrorCode, message: string, id?: string | number): void {
  const d = ws.data;
  if (++d.badFrames >= d.hub.config.maxBadFrames) {
    closeWithError(ws, CloseCode.POLICY_VIOLATION, "E_BAD_FRAME", "too many bad frames");
    return;
  }
  sendError(ws, code, message, id);
}

/** Closes with `closeCode` and the reason "<E_CODE>: <message>" (cut to 123 bytes). */
export function closeWithError(ws: Conn, closeCode: number, code: ErrorCode, message: string): void {
  ws.data.hub.metrics.errors.incL([code]);
  ws.close(closeCode, truncateUtf8(`${code}: ${message}`, MAX_CLOSE_REASON_BYTES));
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = text.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
