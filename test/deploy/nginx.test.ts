// The nginx snippet of docs/deploy.md, run as written in Debian's nginx in front of a real
// pushgate: a seed client logs in over wss:// (ws:// without openssl) and gets a push sent to the
// API directly, pushgate.v1 keeps its subprotocol, the internal paths are denied, an idle socket
// outlives proxy_read_timeout through pushgate's pings, and a hook backend sees X-Real-IP.
// Without nginx the live tests skip with a printed reason, except under CI=true (a failure).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { Pushgate } from "../../src/server.ts";
import { api, describeWith, startTestServer } from "../helpers.ts";
import { Backend } from "../hooks/backend.ts";
import { configOf, deployDoc, docBlock, option, parseEnvFile, pushgateArgs } from "./deploy-doc.ts";
import { NGINX_BIN, type Nginx, OPENSSL_BIN, UPSTREAM_LINE, proxiedClient, startNginx } from "./nginx.ts";

const LOGIN = (uid: string) => `login success, your uid is ${uid}`;
const httpsOf = (n: Nginx) => n.origin.replace(/^ws/, "http");
const insecure = { tls: { rejectUnauthorized: false } } as const;

/** The systemd unit's pushgate config (it is the pushgate nginx fronts on the same host). */
function unitConfig() {
  const exec = /^ExecStart=(.+)$/m.exec(docBlock("systemd-unit"))![1]!.split(/\s+/);
  return configOf(pushgateArgs(exec), parseEnvFile(docBlock("env-file")));
}

/** nginx's `180s` / `3m` / `60` (seconds) in seconds. */
function nginxSeconds(v: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v);
  if (!m) throw new Error(`not an nginx time: ${v}`);
  const f = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? "s"]!;
  return Number(m[1]) * f;
}

describe("docs/deploy.md nginx snippet, read", () => {
  const snippet = docBlock("nginx");

  test("its upstream is where the systemd unit listens", () => {
    const [, host, port] = UPSTREAM_LINE.exec(snippet)!;
    const c = unitConfig();
    expect(c.host).toBe(host!);
    expect(c.port).toBe(Number(port));
  });

  test("it passes the upgrade on over HTTP/1.1", () => {
    expect(snippet).toContain("proxy_http_version 1.1;");
    expect(snippet).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(snippet).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(snippet).toMatch(/map \$http_upgrade \$connection_upgrade \{[^}]*default upgrade;/);
  });

  test("proxy_read_timeout outlasts --idle-timeout (default and the unit's), with the ping margin", () => {
    const read = nginxSeconds(/proxy_read_timeout (\S+);/.exec(snippet)![1]!);
    const send = nginxSeconds(/proxy_send_timeout (\S+);/.exec(snippet)![1]!);
    const idleDefault = Number(option("--idle-timeout").default);
    expect(read).toBeGreaterThan(idleDefault);
    expect(read).toBeGreaterThan(unitConfig().idleTimeout);
    expect(send).toBeGreaterThanOrEqual(read);
    // The doc's advice for ingress-nginx names a value above the idle timeout too.
    const ingress = /proxy-read-timeout`[\s\S]{0,200}?`"(\d+)"`/.exec(deployDoc());
    expect(Number(ingress?.[1])).toBeGreaterThan(idleDefault);
  });

  test("the --hook-headers line it recommends parses and keeps the default headers", () => {
    const line = /`(--hook-headers [^`]+)`/.exec(deployDoc())![1]!.split(" ");
    const c = configOf(line);
    const wanted = c.hookHeaders.split(",");
    for (const h of option("--hook-headers").default.split(",")) expect(wanted).toContain(h);
    expect(wanted).toContain("x-real-ip");
  });
});

describeWith("nginx", NGINX_BIN, "apt-get install -y nginx", true, "docs/deploy.md nginx snippet, running", () => {
  if (!OPENSSL_BIN) {
    if (process.env.CI === "true") throw new Error("openssl is not installed, and CI=true requires it (apt-get install -y openssl)");
    console.log("openssl is not installed: the nginx snippet is tested without TLS (plain ws://)");
  }
  const servers: Pushgate[] = [];
  const proxies: Nginx[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all(servers.map((s) => s.shutdown()));
  });
  const pushgate = (o: Parameters<typeof startTestServer>[0] = {}) => {
    const pg = startTestServer(o);
    servers.push(pg);
    return pg;
  };
  const nginx = async (o: Parameters<typeof startNginx>[0]) => {
    const n = await startNginx(o);
    proxies.push(n);
    return n;
  };

  test("a seed client logs in through it and gets a push sent to the API; pushgate.v1 keeps its subprotocol", async () => {
    const pg = pushgate();
    const proxy = await nginx({ upstreamPort: pg.port });
    expect(proxy.tls).toBe(OPENSSL_BIN !== null);

    const seed = proxiedClient(`${proxy.origin}/`);
    await seed.opened;
    seed.send("42");
    expect(await seed.next()).toBe(LOGIN("42"));
    const sent = await api(pg, "sendToUid", { uid: "42", data: "hello through nginx" });
    expect(sent.status).toBe(200);
    expect(await seed.next()).toBe("hello through nginx");

    const v1 = proxiedClient(`${proxy.origin}/`, { protocols: ["pushgate.v1"] });
    await v1.opened;
    expect(v1.ws.protocol).toBe("pushgate.v1");
    seed.close();
    v1.close();
  });

  test("the internal paths answer 403 through it, /client.js is served", async () => {
    const key = "nginx-test-key"; // turns the /admin dashboard on, so that pushgate would serve it
    const bearer = { authorization: `Bearer ${key}` };
    const pg = pushgate({ apiKey: key });
    const proxy = await nginx({ upstreamPort: pg.port });
    const base = httpsOf(proxy);
    for (const path of ["/metrics", "/healthz", "/api/sendToUid", "//metrics", "/api/../api/getAllUidCount"]) {
      const res = await fetch(`${base}${path}`, { method: "POST", body: "{}", ...insecure });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      await res.arrayBuffer();
    }
    // The admin page, its assets and its API, asked as a browser would (GET), even with the key.
    for (const path of ["/admin", "/admin/", "/admin/api/stats", "/admin/app.js"]) {
      const res = await fetch(`${base}${path}`, { headers: bearer, ...insecure });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      await res.arrayBuffer();
    }
    const js = await fetch(`${base}/client.js`, insecure);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(await js.text()).toContain("PushgateClient");
    // Directly, pushgate still answers them (the deny is the proxy's).
    expect((await fetch(`${pg.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${pg.url}/admin`)).status).toBe(200);
    expect((await fetch(`${pg.url}/admin/api/stats`, { headers: bearer })).status).toBe(200);
  });

  test("an idle socket outlives proxy_read_timeout through pushgate's pings; below the ping interval nginx cuts it", async () => {
    // Scaled down: --idle-timeout 8 pings a silent socket every 4 s. The doc's rule
    // (proxy_read_timeout above --idle-timeout) as 9 s keeps it; 3 s (under one ping) does not.
    const pg = pushgate({ idleTimeout: 8 });
    const [kept, cut] = await Promise.all([
      nginx({ upstreamPort: pg.port, readTimeout: "9s" }),
      nginx({ upstreamPort: pg.port, readTimeout: "3s" }),
    ]);
    const a = proxiedClient(`${kept.origin}/`);
    const b = proxiedClient(`${cut.origin}/`);
    await Promise.all([a.opened, b.opened]);
    a.send("1");
    b.send("2");
    expect(await a.next()).toBe(LOGIN("1"));
    expect(await b.next()).toBe(LOGIN("2"));
    const t0 = performance.now();
    await b.closed;
    expect(performance.now() - t0).toBeLessThan(6000);
    await Bun.sleep(Math.max(0, 11_500 - (performance.now() - t0))); // past 9 s of client silence
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect((await api(pg, "sendToUid", { uid: "1", data: "still here" })).status).toBe(200);
    expect(await a.next()).toBe("still here");
    a.close();
  }, 30_000);

  test("a --auth hook backend gets the client's address in X-Real-IP, and pushgate's `ip` is nginx's", async () => {
    const ipv6 = existsSync("/proc/net/if_inet6") && (await Bun.file("/proc/net/if_inet6").text()).includes(" lo");
    using backend = new Backend((q) => ({ body: { uid: String(q.credential) } }));
    const hookHeaders = /`--hook-headers ([^`]+)`/.exec(deployDoc())![1]!;
    const pg = pushgate({ auth: "hook", hookUrl: backend.url, hookHeaders });
    // The client comes from ::1 when the host has IPv6 loopback, so the two addresses differ.
    const proxy = await nginx({ upstreamPort: pg.port, listenHost: ipv6 ? "[::1]" : "127.0.0.1" });
    const c = proxiedClient(`${proxy.origin}/`, { headers: { "X-Real-IP": "203.0.113.9", "X-Forwarded-For": "203.0.113.9" } });
    await c.opened;
    c.send("7");
    expect(await c.next()).toBe(LOGIN("7"));
    const asked = backend.asked.find((q) => q.kind === "connect")!;
    expect(asked.ip).toBe("127.0.0.1");
    const headers = asked.headers as Record<string, string>;
    expect(headers["x-real-ip"]).toBe(ipv6 ? "::1" : "127.0.0.1"); // the forged value was replaced
    c.close();
  });
});
