// Stable error codes shared by the WebSocket protocols and the HTTP API.
// Codes never change meaning once released; docs/protocol.md and docs/http-api.md list them.

export const ErrorCodes = [
  "E_BAD_FRAME",
  "E_BINARY_UNSUPPORTED",
  "E_INVALID_UID",
  "E_INVALID_GROUP",
  "E_LOGIN_TIMEOUT",
  "E_FORBIDDEN",
  "E_RATE_LIMITED",
  "E_UID_CONNECTION_LIMIT",
  "E_GROUP_LIMIT",
  "E_TOO_MANY_CONNECTIONS",
  "E_PAYLOAD_TOO_LARGE",
  "E_INVALID_UTF8",
  "E_BAD_JSON",
  "E_BAD_PARAMS",
  "E_BODY_TOO_LARGE",
  "E_UNKNOWN_METHOD",
  "E_METHOD_NOT_ALLOWED",
  "E_UNAUTHORIZED",
  "E_NOT_FOUND",
  "E_NO_SUCH_CLIENT",
  "E_SESSION_TOO_LARGE",
  "E_BATCH_TOO_LARGE",
  "E_TOO_DEEP",
  "E_TOO_MANY_TARGETS",
  "E_LIST_TOO_LARGE",
  "E_NOT_APPLICABLE",
  "E_FANOUT_TOO_LARGE",
  "E_SHUTTING_DOWN",
  "E_AUTH_FAILED",
  "E_TOKEN_EXPIRED",
  "E_OFFLINE",
  "E_IDEMPOTENCY_CONFLICT",
  "E_CLUSTER_UNAVAILABLE",
  "E_CLUSTER_TIMEOUT",
  "E_BACKEND_UNAVAILABLE",
  "E_BACKEND_TIMEOUT",
  "E_BACKEND_ERROR",
  "E_SUBSCRIBE_REFUSED",
  "E_INTERNAL",
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** WebSocket close codes (RFC 6455 §7.4.1) used by pushgate. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001, // server shutting down
  UNSUPPORTED_DATA: 1003, // binary frame on the text protocol
  INVALID_PAYLOAD: 1007, // invalid UTF-8 (closed by Bun itself)
  POLICY_VIOLATION: 1008, // bad uid, login timeout, rate limit abuse, per-uid limit
  MESSAGE_TOO_BIG: 1009, // inbound frame over maxPayload (closed by Bun itself)
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013, // the backend (connect hook) was unavailable or too slow: retry
  TOKEN_EXPIRED: 4001, // pushgate.v1: exp passed without a refresh
} as const;

/** RFC 6455: a control frame carries 125 bytes, 2 of them the close code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** HTTP status for each API error code. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case "E_BAD_FRAME":
    case "E_BAD_JSON":
    case "E_BAD_PARAMS":
    case "E_INVALID_UID":
    case "E_INVALID_GROUP":
    case "E_BATCH_TOO_LARGE":
    case "E_SESSION_TOO_LARGE":
    case "E_TOO_DEEP":
    case "E_TOO_MANY_TARGETS":
    case "E_LIST_TOO_LARGE":
    case "E_FANOUT_TOO_LARGE":
    case "E_NOT_APPLICABLE":
      return 400;
    case "E_UNAUTHORIZED":
    case "E_AUTH_FAILED":
    case "E_TOKEN_EXPIRED":
      return 401;
    case "E_FORBIDDEN":
    case "E_SUBSCRIBE_REFUSED":
      return 403;
    case "E_UNKNOWN_METHOD":
    case "E_NOT_FOUND":
    case "E_NO_SUCH_CLIENT":
      return 404;
    case "E_METHOD_NOT_ALLOWED":
      return 405;
    case "E_UID_CONNECTION_LIMIT":
    case "E_GROUP_LIMIT":
    case "E_IDEMPOTENCY_CONFLICT":
      return 409;
    case "E_BODY_TOO_LARGE":
    case "E_PAYLOAD_TOO_LARGE":
      return 413;
    case "E_RATE_LIMITED":
      return 429;
    case "E_TOO_MANY_CONNECTIONS":
    case "E_SHUTTING_DOWN":
    case "E_CLUSTER_UNAVAILABLE":
      return 503;
    case "E_BACKEND_UNAVAILABLE":
    case "E_BACKEND_ERROR":
      return 502;
    case "E_CLUSTER_TIMEOUT":
    case "E_BACKEND_TIMEOUT":
      return 504;
    default:
      return 500;
  }
}
