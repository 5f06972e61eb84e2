#!/usr/bin/env bun
// CLI entry: `bun run start [options]`. Parses flags/env, starts one node, drains on signals.
import { helpText, parseConfig } from "./config/parse.ts";
import { type Pushgate, createPushgate } from "./server.ts";

const parsed = parseConfig(Bun.argv.slice(2), process.env);
if (!parsed.ok) {
  if (parsed.help) {
    console.log(helpText());
    process.exit(0);
  }
  console.error(`pushgate: ${parsed.error}`);
  process.exit(2);
}

let node: Pushgate | null = null;
let signalled = false;
// Installed before the server starts, so a signal right after "listening" still drains.
const onSignal = (signal: string) => {
  if (signalled) return;
  signalled = true;
  if (!node) process.exit(0);
  node.hub.log.info("signal", { signal });
  node.shutdown().then(() => process.exit(0));
};
process.on("SIGTERM", () => onSignal("SIGTERM"));
process.on("SIGINT", () => onSignal("SIGINT"));

try {
  node = await createPushgate(parsed.config);
} catch (e) {
  console.error(`pushgate: cannot start: ${(e as Error).message}`);
  process.exit(1);
}
