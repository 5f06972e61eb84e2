// One WebSocket attempt: offers the pushgate.v1 subprotocol, checks the server took it, and
// gives up on a server that sends no welcome in time. Reports exactly one `close`, whatever
// ended the socket; dispose() ends it without reporting anything.

import { ClientErrorCode, PushgateError } from "./errors.ts";

export const SUBPROTOCOL = "pushgate.v1";

export interface SocketEvents {
  /** The upgrade succeeded with pushgate.v1: time to send `auth`. */
  open(): void;
  text(data: string): void;
  close(code: number, reason: string): void;
  error(err: PushgateError): void;
}

export class Socket {
  private ws: WebSocket | null;
  private timer: ReturnType<typeof setTimeout> | null;

  /** Throws like the WebSocket constructor does (e.g. a malformed URL). */
  constructor(WS: typeof WebSocket, url: string, welcomeTimeoutMs: number, private readonly events: SocketEvents) {
    const ws = new WS(url, SUBPROTOCOL);
    this.ws = ws;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.abandon(1006, `no welcome within ${welcomeTimeoutMs} ms`);
    }, welcomeTimeoutMs);
    ws.onopen = () => {
      if (ws.protocol === SUBPROTOCOL) return events.open();
      events.error(new PushgateError(ClientErrorCode.PROTOCOL, `the server did not accept the ${SUBPROTOCOL} subprotocol`));
      this.abandon(1006, "subprotocol not accepted");
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === "string") events.text(e.data);
    };
    ws.onclose = (e: CloseEvent) => {
      this.dispose();
      events.close(e.code, e.reason);
    };
    ws.onerror = null; // a close event always follows and carries what there is to know
  }

  send(text: string): void {
    this.ws?.send(text);
  }

  /** The welcome came: the socket is no longer on probation. */
  welcomed(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Closes the socket (if still open) and detaches it: no further events. */
  dispose(code?: number, reason?: string): void {
    this.welcomed();
    const ws = this.ws;
    if (ws === null) return;
    this.ws = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState > 1) return;
    try {
      if (code === undefined) ws.close();
      else ws.close(code, reason);
    } catch {
      ws.close(); // e.g. a reason over 123 bytes
    }
  }

  /** Ends the socket from this side and reports it as closed with `code`. */
  private abandon(code: number, reason: string): void {
    this.dispose();
    this.events.close(code, reason);
  }
}
