// JSON responses, and the API's error shape, shared by the HTTP API, /healthz, upgrade refusals
// and the server's 404s.
import { type ErrorCode, httpStatusFor } from "./errors.ts";

const JSON_HEADERS = { "content-type": "application/json" };

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function errorResponse(code: ErrorCode, message: string, status = httpStatusFor(code)): Response {
  return jsonResponse({ error: { code, message } }, status);
}
