// The servers under test, each its own process on 127.0.0.1: pushgate (src/main.ts), the bare
// Bun.serve topic control (control-seed-server.ts), the Map control (control-map-server.ts) and
// the cluster scenario's relay over Redis (control-relay-server.ts).
import { type Child, spawnChild } from "./processes.ts";

export interface ServerUnderTest {
  name: "pushgate" | "control" | "map" | "relay";
  child: Child;
  port: number;
}

const HOST = "127.0.0.1";
const READY_MS = 10_000;

/** A port that was free a moment ago (pushgate logs its port only at info level). */
function freePort(): number {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** `extraArgs` (e.g. `--redis <url>`) go before PUSHGATE_BENCH_ARGS; `label` names the child in errors. */
export async function startPushgate(root: string, extraArgs: readonly string[] = [], label = "pushgate"): Promise<ServerUnderTest> {
  const port = freePort();
  const child = spawnChild(label, [
    // PUSHGATE_BENCH_BUN_ARGS: runtime flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    process.execPath, ...(process.env.PUSHGATE_BENCH_BUN_ARGS ? process.env.PUSHGATE_BENCH_BUN_ARGS.split(" ") : []), "src/main.ts", "--port", String(port), "--host", HOST,
    "--log-level", "warn", "--rate-limit", "0", "--max-connections-per-uid", "0", ...extraArgs, ...(process.env.PUSHGATE_BENCH_ARGS ? process.env.PUSHGATE_BENCH_ARGS.split(" ") : []),
  ], root);
  const deadline = performance.now() + READY_MS;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${label} exited at start: ${child.tail().trim()}`);
    try {
      const res = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return { name: "pushgate", child, port };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${label} not ready within ${READY_MS} ms: ${child.tail().trim()}`);
    await Bun.sleep(50);
  }
}

/** `control`: bare topic pub/sub; `map`: a user-land Map uid → sockets with send loops. */
export async function startControl(root: string, kind: "control" | "map" = "control"): Promise<ServerUnderTest> {
  const script = kind === "map" ? "bench/controls/control-map-server.ts" : "bench/controls/control-seed-server.ts";
  const child = spawnChild(kind === "map" ? "map control" : "control", [
    process.execPath, script, "--port", "0", "--host", HOST,
  ], root);
  const line = await child.waitLine((l) => l.startsWith('{"port":'), READY_MS);
  const port = (JSON.parse(line) as { port: number }).port;
  return { name: kind, child, port };
}

/** One relay node (bare Bun.serve + Bun's RedisClient) joined to the others through `redisUrl`. */
export async function startRelay(root: string, redisUrl: string, label = "relay"): Promise<ServerUnderTest> {
  const child = spawnChild(label, [process.execPath, "bench/controls/control-relay-server.ts", "--port", "0", "--host", HOST, "--redis", redisUrl], root);
  const line = await child.waitLine((l) => l.startsWith('{"port":'), READY_MS);
  return { name: "relay", child, port: (JSON.parse(line) as { port: number }).port };
}

/** Starts one standalone server of the given name. */
export function startServer(root: string, name: "pushgate" | "control" | "map"): Promise<ServerUnderTest> {
  return name === "pushgate" ? startPushgate(root) : startControl(root, name);
}

export { HOST };
