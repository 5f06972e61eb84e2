// Webhook events (--webhook-url, --webhook-events): `connection.open` (a login),
// `connection.close`, `message.undelivered` (a client's push to a uid with no connection) and
// `user.online` / `user.offline` (presence.ts). This module only builds the events; an outbox
// (memory-outbox.ts, redis/outbox.ts) queues them and WebhookSender signs and POSTs them.
import type { Conn } from "../core/conn-data.ts";
import { clientIdOf } from "../core/client-table.ts";
import type { Payload } from "../history/types.ts";
import type { Outbox } from "./outbox.ts";
import type { PresenceListener } from "./presence.ts";

export class Webhooks implements PresenceListener {
  /** `maxData`: --webhook-max-data (longer client data is left out of message.undelivered). */
  constructor(private readonly outbox: Outbox, private readonly enabled: ReadonlySet<string>, private readonly maxData: number) {}

  wants(name: string): boolean {
    return this.enabled.has(name);
  }

  loggedIn(ws: Conn): void {
    this.add("connection.open", { clientId: clientIdOf(ws.data), uid: ws.data.uid });
  }

  closed(ws: Conn, code: number, reason: string): void {
    const d = ws.data;
    if (!d.loggedIn) return; // it never opened for the application
    this.add("connection.close", { clientId: clientIdOf(d), uid: d.uid, code, reason, session: d.session?.data ?? null });
  }

  undelivered(ws: Conn, to: string, payload: Payload): void {
    if (!this.enabled.has("message.undelivered")) return;
    // The data as the client sent it: JSON stays JSON (already checked for depth and size on the way in).
    const bytes = Buffer.byteLength(payload.text);
    const data = bytes > this.maxData ? `null,"dataTruncated":true,"dataBytes":${bytes}` : payload.isJson ? payload.text : JSON.stringify(payload.text);
    const from = JSON.stringify({ clientId: clientIdOf(ws.data), uid: ws.data.uid });
    this.outbox.add(`{"name":"message.undelivered","time_ms":${Date.now()},"from":${from},"to":${JSON.stringify(to)},"data":${data}}`);
  }

  online(uid: string): void {
    this.add("user.online", { uid });
  }

  offline(uid: string): void {
    this.add("user.offline", { uid });
  }

  private add(name: string, fields: Record<string, unknown>): void {
    if (this.enabled.has(name)) this.outbox.add(JSON.stringify({ name, time_ms: Date.now(), ...fields }));
  }
}
