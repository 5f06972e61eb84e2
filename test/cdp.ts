// A headless Chromium driven over the Chrome DevTools Protocol with Bun's built-in WebSocket (no
// packages). launch() starts Debian's `chromium` with a fresh profile on --remote-debugging-port=0,
// reads the "DevTools listening on ws://…" line from its stderr, and opens the page target
// listed by /json/list. close() asks the browser to quit, then kills it by PID if it has not.
// Without the binary, browser tests skip with a printed reason — except under CI=true.
import { describeWith } from "./helpers.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = Bun.which("chromium") ?? Bun.which("chromium-browser");

/** describe() when chromium exists; otherwise describe.skip with the reason printed (a failure under CI=true). */
export function describeBrowser(name: string, fn: () => void): void {
  describeWith("chromium", CHROMIUM, "apt-get install chromium", true, name, fn);
}

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--remote-debugging-port=0",
];

type Json = Record<string, any>;

/** One CDP WebSocket (a page target): commands with ids, events to listeners. */
export class CdpSession {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(method: string, params: Json) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as Json;
      if (typeof m.id === "number") {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.error) w?.reject(new Error(`CDP ${m.error.message}`));
        else w?.resolve(m.result ?? {});
      } else if (typeof m.method === "string") for (const l of this.listeners) l(m.method, m.params ?? {});
    };
    ws.onclose = () => {
      for (const w of this.waiting.values()) w.reject(new Error("CDP socket closed"));
      this.waiting.clear();
    };
  }

  static async open(url: string): Promise<CdpSession> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
    return new CdpSession(ws);
  }

  send(method: string, params: Json = {}, timeoutMs = 15_000): Promise<Json> {
    const id = this.nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const timer = setTimeout(() => {
      this.waiting.delete(id);
      reject(new Error(`CDP ${method}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    this.waiting.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
    this.ws.send(JSON.stringify({ id, method, params }));
    return promise;
  }

  /** Resolves on the next `method` event (register before triggering it). */
  once(method: string, timeoutMs = 15_000): Promise<Json> {
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const timer = setTimeout(() => {
      this.listeners.delete(l);
      reject(new Error(`no ${method} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const l = (m: string, p: Json) => {
      if (m !== method) return;
      clearTimeout(timer);
      this.listeners.delete(l);
      resolve(p);
    };
    this.listeners.add(l);
    return promise;
  }

  on(listener: (method: string, params: Json) => void): void {
    this.listeners.add(listener);
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result?.value as T;
  }

  /** Polls `expression` until it is truthy; returns that value. */
  async waitFor<T = unknown>(expression: string, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
      await Bun.sleep(50);
    }
  }

  /** Navigates and waits for the load event. */
  async navigate(url: string): Promise<void> {
    const loaded = this.once("Page.loadEventFired");
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
    await loaded;
  }

  /** A PNG of the viewport (or the whole page with `fullPage`). */
  async screenshot(fullPage = false): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: fullPage });
    return Uint8Array.from(atob(r.data as string), (c) => c.charCodeAt(0));
  }

  close(): void {
    this.ws.close();
  }
}

export class Browser {
  private constructor(
    private readonly proc: ReturnType<typeof Bun.spawn>, private readonly profile: string,
    readonly httpBase: string, private readonly browserWs: string, readonly stderr: string[],
  ) {}

  static async launch(timeoutMs = 20_000): Promise<Browser> {
    if (!CHROMIUM) throw new Error("chromium is not installed");
    const profile = mkdtempSync(join(tmpdir(), "pushgate-chromium-"));
    const proc = Bun.spawn([CHROMIUM, ...FLAGS, `--user-data-dir=${profile}`, "about:blank"], { stdout: "ignore", stderr: "pipe" });
    const lines: string[] = [];
    const found = Promise.withResolvers<string>();
    // Read stderr to its end (a full pipe would stall the browser); the DevTools line resolves.
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (lines.length < 200) lines.push(line);
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
          if (m) found.resolve(m[1]!);
        }
      }
      found.reject(new Error(`chromium exited before listening: ${lines.slice(-10).join(" | ")}`));
    })();
    const timer = setTimeout(() => found.reject(new Error(`no DevTools line within ${timeoutMs} ms`)), timeoutMs);
    let wsUrl: string;
    try {
      wsUrl = await found.promise;
    } catch (e) {
      proc.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const port = new URL(wsUrl).port;
    return new Browser(proc, profile, `http://127.0.0.1:${port}`, wsUrl, lines);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The first page target (the about:blank tab it started with). */
  async page(): Promise<CdpSession> {
    const targets = (await (await fetch(`${this.httpBase}/json/list`)).json()) as Json[];
    const page = targets.find((t) => t.type === "page" && typeof t.webSocketDebuggerUrl === "string");
    if (!page) throw new Error(`no page target in /json/list: ${JSON.stringify(targets)}`);
    return CdpSession.open(page.webSocketDebuggerUrl as string);
  }

  /** Browser.close, then SIGKILL by PID if it is still running after 5 s; removes the profile. */
  async close(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        const b = await CdpSession.open(this.browserWs);
        await b.send("Browser.close", {}, 3000).catch(() => {});
        b.close();
      } catch {}
      const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) {
        this.proc.kill("SIGKILL");
        await this.proc.exited;
      }
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}
