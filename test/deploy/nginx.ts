// Debian's nginx running the snippet of docs/deploy.md as written, but for the upstream port, the
// listen address, the certificate (a throwaway one from openssl) and any timeout a test scales.
// Every substitution must match exactly once, so a changed snippet fails here instead of being
// tested half. nginx runs in the foreground as one process (master_process off) with every path
// in its temp dir, and is stopped by its PID.
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient, freePort } from "../helpers.ts";
import { docBlock } from "./deploy-doc.ts";

export const NGINX_BIN = Bun.which("nginx") ?? ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find((p) => existsSync(p)) ?? null;
export const OPENSSL_BIN = Bun.which("openssl");

/** The snippet's own upstream line: what pushgate must listen on (the systemd unit's --host/--port). */
export const UPSTREAM_LINE = /^\s*server (127\.0\.0\.1):(\d+);$/m;

const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

export interface NginxOptions {
  upstreamPort: number;
  /** Listen address (an IPv6 one in brackets); default 127.0.0.1. */
  listenHost?: string;
  /** Replaces the snippet's proxy_read_timeout value (e.g. "9s"). */
  readTimeout?: string;
}

export interface Nginx {
  /** wss://host:port (ws:// without openssl). */
  readonly origin: string;
  readonly tls: boolean;
  stderr(): string;
  stop(): Promise<void>;
}

/** `snippet` with `pattern` replaced; throws unless it matched exactly once. */
export function substituteOnce(snippet: string, pattern: RegExp, replacement: string): string {
  const all = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g");
  const n = [...snippet.matchAll(all)].length;
  if (n !== 1) throw new Error(`docs/deploy.md nginx snippet: ${pattern} matched ${n} times, expected once`);
  return snippet.replace(pattern, replacement);
}

function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const r = Bun.spawnSync([OPENSSL_BIN!, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl req failed: ${r.stderr.toString()}`);
  return { cert, key };
}

/** The snippet with this run's ports and files, and nothing else changed. */
export function testSnippet(dir: string, o: NginxOptions, port: number): { text: string; tls: boolean } {
  let s = docBlock("nginx");
  s = substituteOnce(s, UPSTREAM_LINE, `    server 127.0.0.1:${o.upstreamPort};`);
  const host = o.listenHost ?? "127.0.0.1";
  const tls = OPENSSL_BIN !== null;
  s = substituteOnce(s, /listen 443 ssl;/, tls ? `listen ${host}:${port} ssl;` : `listen ${host}:${port};`);
  if (tls) {
    const { cert, key } = selfSignedCert(dir);
    s = substituteOnce(s, /ssl_certificate\s+\S+;/, `ssl_certificate ${cert};`);
    s = substituteOnce(s, /ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${key};`);
  } else {
    s = s.replace(/^\s*ssl_[a-z_]+ .*;$/gm, "");
  }
  if (o.readTimeout) s = substituteOnce(s, /proxy_read_timeout \S+;/, `proxy_read_timeout ${o.readTimeout};`);
  return { text: s, tls };
}

export async function startNginx(o: NginxOptions): Promise<Nginx> {
  if (!NGINX_BIN) throw new Error("nginx is not installed");
  const dir = mkdtempSync(join(tmpdir(), "pushgate-nginx-"));
  const host = o.listenHost ?? "127.0.0.1";
  const port = freePort(host.replace(/^\[|\]$/g, ""));
  const { text, tls } = testSnippet(dir, o, port);
  // The http{} around the snippet, as Debian's nginx.conf gives it, with every path in `dir`.
  const conf = [
    "worker_processes 1;",
    "events { worker_connections 256; }",
    "http {",
    `  access_log ${dir}/access.log;`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
    text,
    "}",
    "",
  ].join("\n");
  writeFileSync(join(dir, "nginx.conf"), conf);
  const proc = Bun.spawn([NGINX_BIN, "-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", "stderr",
    "-g", `daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;`], { stdout: "ignore", stderr: "pipe" });
  started.add(proc);
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    try {
      for await (const c of proc.stderr as ReadableStream<Uint8Array>) err = (err + dec.decode(c, { stream: true })).slice(-16_384);
    } catch {}
  })();
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!done) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    started.delete(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  // Up once it accepts a TCP connection; an nginx that exits (bad config) fails with its stderr.
  const deadline = performance.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited ${proc.exitCode}: ${err}`);
    }
    const ok = await Bun.connect({ hostname: host.replace(/^\[|\]$/g, ""), port, socket: { data() {} } })
      .then((s) => { s.end(); return true; }, () => false);
    if (ok) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen on ${host}:${port} within 5 s: ${err}`);
    }
    await Bun.sleep(20);
  }
  return { origin: `${tls ? "wss" : "ws"}://${host}:${port}`, tls, stderr: () => err, stop };
}

/** A TestClient through the proxy (the test certificate is self-signed); next() waits 3000 ms. */
export function proxiedClient(url: string, opts: { protocols?: string[]; headers?: Record<string, string> } = {}): TestClient {
  return new TestClient(url, { ...opts, tls: { rejectUnauthorized: false }, nextMs: 3000 });
}
