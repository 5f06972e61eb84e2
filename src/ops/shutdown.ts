// Graceful stop: refuse new sockets, close every open one with 1001, wait a bounded time.
import type { Server } from "bun";
import { CloseCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import type { ConnData } from "../transport/conn-data.ts";

export async function drain(server: Server<ConnData>, hub: Hub, timers: readonly Timer[]): Promise<void> {
  hub.draining = true;
  for (const t of timers) clearInterval(t);
  hub.expiry.stop();
  const open = hub.clients.size;
  hub.log.info("shutdown_begin", { connections: open });
  server.stop(false); // stop listening; sockets stay until closed below
  hub.closeAll(CloseCode.GOING_AWAY, "server shutting down");
  const deadline = performance.now() + hub.config.drainTimeoutMs;
  while (hub.clients.size > 0 && performance.now() < deadline) await Bun.sleep(10);
  const left = hub.clients.size;
  await server.stop(true);
  hub.log.info("shutdown_done", { closed: open - left, forced: left });
}
