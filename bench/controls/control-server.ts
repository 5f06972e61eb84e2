// What both controls share: the command line, the upgrade of every request, WebSocket transport
// options that match pushgate's defaults (so the comparison measures pushgate's own code, not
// different socket settings), and the `{"port":N}` line once listening. Each control brings only
// its own message (and close) handler.
//   bun bench/controls/control-<kind>-server.ts [--port N] [--host H]   → prints {"port":N} once listening
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { parseArgs } from "node:util";

/** Per-socket state: the uid once the first text frame (the login) has arrived. */
export interface Seed { uid: string | null }
export type SeedSocket = ServerWebSocket<Seed>;

export const LOGIN_REPLY = "login success, your uid is ";

/** An HTTP handler for the api scenario's requests (the bare control has one); null = not handled. */
export type ControlApi = (req: Request, server: Server<Seed>) => Promise<Response> | null;

/** The command line of every control; only the relay reads `--redis`. */
export function controlArgs(): { port: string; host: string; redis?: string } {
  return parseArgs({
    args: Bun.argv.slice(2),
    options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" }, redis: { type: "string" } },
  }).values;
}

export function serveControl(name: string, handlers: Pick<WebSocketHandler<Seed>, "message" | "close">, api?: ControlApi) {
  const values = controlArgs();
  const server = Bun.serve<Seed>({
    port: Number(values.port),
    hostname: values.host,
    fetch(req, srv) {
      const handled = api?.(req, srv);
      if (handled) return handled;
      if (srv.upgrade(req, { data: { uid: null } })) return undefined;
      return new Response(`control ${name} server: connect with a WebSocket\n`);
    },
    websocket: {
      maxPayloadLength: 64 * 1024,
      backpressureLimit: 1024 * 1024,
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPings: true,
      perMessageDeflate: false,
      ...handlers,
    },
  });
  console.log(JSON.stringify({ port: server.port }));
  return server;
}
