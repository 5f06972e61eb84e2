// Graceful stop: refuse new sockets, close every open one with 1001, wait a bounded time.
import type { Server } from "bun";
import type { Conn, ConnData } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";

export async function drain(server: Server<ConnData>, hub: Hub, timers: readonly Timer[]): Promise<void> {
  hub.draining = true;
  for (const t of timers) clearInterval(t);
  hub.expiry.stop();
  hub.subExpiry.stop();
  const open = hub.clients.size;
  hub.log.info("shutdown_begin", { connections: open });
  server.stop(false); // stop listening; open sockets stay
  // Bun runs the close handler inside ws.close() and drops what is still queued, so first let
  // the queues drain (bounded), then close every socket with 1001 and give the close frames a
  // moment to leave before the hard stop.
  const conns = hub.clients.values();
  const deadline = performance.now() + hub.config.drainTimeoutMs;
  while (performance.now() < deadline && conns.some(backlogged)) await Bun.sleep(10);
  const forced = conns.filter(backlogged).length;
  for (const ws of hub.clients.values()) ws.close(CloseCode.GOING_AWAY, "server shutting down");
  await Bun.sleep(20);
  await server.stop(true);
  await hub.engine.stop();
  hub.log.info("shutdown_done", { closed: open, forced });
}

function backlogged(ws: Conn): boolean {
  return ws.readyState === 1 && ws.getBufferedAmount() > 0;
}
