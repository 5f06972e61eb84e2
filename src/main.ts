#!/usr/bin/env bun
// CLI entry: `bun run start [options]`, or the single binary of `bun run build` (src/build/binary.ts).
// Parses flags/env, starts one node, drains on signals.
// With --workers above 1 it supervises that many worker processes instead (src/process/workers.ts).
import { invocation } from "./process/self.ts";
import { isWorker, superviseWorkers, watchSupervisor } from "./process/workers.ts";
import { helpText, parseConfig } from "./config/parse.ts";
import { BAD_OPTION, type Pushgate, createPushgate } from "./server.ts";

const parsed = parseConfig(Bun.argv.slice(2), process.env);
if (!parsed.ok) {
  if (parsed.help) {
    console.log(helpText(invocation()));
    process.exit(0);
  }
  console.error(`pushgate: ${parsed.error}`);
  process.exit(2);
}

if (parsed.config.workers > 1 && !isWorker()) {
  process.exit(await superviseWorkers(parsed.config, Bun.argv.slice(2)));
}

let node: Pushgate | null = null;
let signalled = false;
// Installed before the server starts, so a signal right after "listening" still drains.
const stop = (event: string, fields: Record<string, unknown>) => {
  if (signalled) return;
  signalled = true;
  if (!node) process.exit(0);
  node.hub.log.info(event, fields);
  node.shutdown().then(() => process.exit(0));
};
process.on("SIGTERM", () => stop("signal", { signal: "SIGTERM" }));
process.on("SIGINT", () => stop("signal", { signal: "SIGINT" }));
// A worker whose supervisor died (even by SIGKILL) drains and exits instead of lingering.
if (isWorker()) watchSupervisor(() => stop("supervisor_gone", { ppid: process.ppid }));

try {
  node = await createPushgate(parsed.config);
} catch (e) {
  console.error(`pushgate: cannot start: ${(e as Error).message}`);
  // A value that can never work exits 2, as a bad option does: restarting cannot fix it.
  process.exit((e as Error).cause === BAD_OPTION ? 2 : 1);
}
