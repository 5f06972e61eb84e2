// A real redis-server per test file, on a free loopback port, that the test owns: it can kill
// and restart it. Without the binary, Redis tests skip with a printed reason — except under
// CI=true, where a missing redis-server fails the run.
import { describeWith, freePort } from "./helpers.ts";

export const REDIS_BIN = Bun.which("redis-server");

/** describe() when redis-server exists; otherwise describe.skip with the reason printed (a failure under CI=true). */
export function describeRedis(name: string, fn: () => void): void {
  describeWith("redis-server", REDIS_BIN, "apt-get install redis-server", true, name, fn);
}

export class RedisServer {
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  readonly port: number;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(freePort());
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null;
  }

  /** (Re)starts on the same port with an empty dataset; resolves when it answers PING. */
  async restart(): Promise<void> {
    if (this.running) return;
    if (!REDIS_BIN) throw new Error("redis-server is not installed");
    this.proc = Bun.spawn([
      REDIS_BIN, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--protected-mode", "no", "--loglevel", "warning",
    ], { stdout: "ignore", stderr: "pipe" });
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      if (await this.ping()) return;
      await Bun.sleep(20);
    }
    throw new Error(`redis-server on ${this.port} did not answer within 5 s`);
  }

  /** SIGKILL: no goodbye to clients, like a crash. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    this.proc = null;
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  /** SIGSTOP by PID: Redis hangs with its sockets open (nothing answered, nothing closed). */
  pause(): void {
    this.proc?.kill("SIGSTOP");
  }

  /** SIGCONT: a paused Redis answers again (and runs what was queued meanwhile). */
  resume(): void {
    this.proc?.kill("SIGCONT");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Runs one command on a short-lived connection (for assertions and INFO). */
  async command(cmd: string, args: string[] = []): Promise<unknown> {
    const client = new Bun.RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false });
    try {
      await client.connect();
      return await client.send(cmd, args);
    } finally {
      client.close();
    }
  }

  private async ping(): Promise<boolean> {
    try {
      return (await this.command("PING")) === "PONG";
    } catch {
      return false;
    }
  }
}
