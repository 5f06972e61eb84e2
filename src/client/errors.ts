// The error type of the SDK: an Error with a stable `code` (the server's E_* code, or one of the
// client-side codes below).

/** Client-side codes; server codes (E_OFFLINE, E_FORBIDDEN, E_AUTH_FAILED, …) pass through as-is. */
export const ClientErrorCode = {
  /** send() got no reply within sendTimeoutMs. */
  TIMEOUT: "E_TIMEOUT",
  /** Not connected, or the socket dropped before the reply. */
  DISCONNECTED: "E_DISCONNECTED",
  /** The token callback threw or returned something other than a non-empty string. */
  TOKEN: "E_TOKEN",
  /** The server answered without the pushgate.v1 subprotocol, or sent a frame that is not JSON. */
  PROTOCOL: "E_PROTOCOL",
  /** Reconnecting stopped: maxAttempts reached, or the server refused the credentials. */
  GAVE_UP: "E_GAVE_UP",
} as const;

export class PushgateError extends Error {
  override readonly name = "PushgateError";
  readonly code: string;
  /** The backend's own error of a refused rpc (E_BACKEND_ERROR), as it sent it. */
  readonly detail: unknown;

  constructor(code: string, message: string, detail?: unknown) {
    super(`${code}: ${message}`);
    this.code = code;
    this.detail = detail;
  }
}
