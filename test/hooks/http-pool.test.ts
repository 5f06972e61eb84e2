// The hook client's own HTTP/1.1 keep-alive client against a raw TCP server (Bun.listen) that
// answers exactly the bytes each test chooses: Content-Length, chunked (split anywhere),
// until-close, 100 Continue, Connection: close, keep-alive reuse; and every broken answer —
// malformed, too large, closed midway, silent — is an error for that request, never a hang.
import { afterEach, expect, test } from "bun:test";
import { HttpPool, TimedOut, TooLarge } from "../../src/hooks/http-pool.ts";

type Reply = (req: string, sock: { write(s: string | Uint8Array): void; end(): void }) => void;

const servers: Array<{ stop(force?: boolean): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

/** A TCP server: `reply` is called once per complete request (head + Content-Length body). */
function server(reply: Reply) {
  let connections = 0;
  const l = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1", port: 0,
    socket: {
      open(s) {
        connections++;
        s.data = { buf: "" };
      },
      data(s, d) {
        s.data.buf += d.toString();
        for (;;) {
          const end = s.data.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const len = Number(/content-length: (\d+)/i.exec(s.data.buf.slice(0, end))?.[1] ?? 0);
          if (s.data.buf.length < end + 4 + len) return;
          const req = s.data.buf.slice(0, end + 4 + len);
          s.data.buf = s.data.buf.slice(end + 4 + len);
          reply(req, { write: (t) => void s.write(t), end: () => s.end() });
        }
      },
    },
  });
  servers.push(l);
  return { pool: new HttpPool(new URL(`http://127.0.0.1:${l.port}/hook?x=1`), 1000, 500), connections: () => connections };
}

const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test("Content-Length answers over one kept-alive connection; the request line, host and body as sent", async () => {
  const seen: string[] = [];
  const s = server((req, sock) => {
    seen.push(req);
    sock.write(ok(`{"n":${seen.length}}`));
  });
  for (let i = 1; i <= 5; i++) expect(await s.pool.post(`{"i":${i}}`)).toEqual({ status: 200, text: `{"n":${i}}` });
  expect(s.connections()).toBe(1);
  expect(seen[0]!.startsWith("POST /hook?x=1 HTTP/1.1\r\n")).toBe(true);
  expect(seen[0]).toContain("content-length: 7\r\n");
  expect(seen[4]!.endsWith('\r\n\r\n{"i":5}')).toBe(true);
  // Concurrent requests each get their own connection (one request per connection at a time).
  const all = await Promise.all([1, 2, 3].map((i) => s.pool.post(`{"c":${i}}`)));
  expect(all.every((a) => a.status === 200)).toBe(true);
  expect(s.connections()).toBe(3);
});

test("chunked answers split at every byte; trailers; 100 Continue first; UTF-8 across chunks", async () => {
  const body = '{"text":"héllo wörld"}';
  const b = Buffer.from(body);
  const raw = Buffer.concat([
    Buffer.from("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n"),
    Buffer.from(`${(10).toString(16)}\r\n`), b.subarray(0, 10), Buffer.from("\r\n"),
    Buffer.from(`${(b.length - 10).toString(16)};ext=1\r\n`), b.subarray(10), Buffer.from("\r\n"),
    Buffer.from("0\r\nx-trailer: 1\r\n\r\n"),
  ]);
  const s = server((_req, sock) => {
    void (async () => {
      for (let i = 0; i < raw.length; i++) {
        sock.write(raw.subarray(i, i + 1)); // one byte per write: every split point
        await Bun.sleep(0);
      }
    })();
  });
  expect(await s.pool.post("{}")).toEqual({ status: 201, text: body });
  expect(await s.pool.post("{}")).toEqual({ status: 201, text: body }); // the same connection again
  expect(s.connections()).toBe(1);
});

test("an answer without a length is read until the server closes; Connection: close is not reused", async () => {
  let n = 0;
  const s = server((_req, sock) => {
    n++;
    if (n === 1) {
      sock.write('HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"a":');
      setTimeout(() => { sock.write("1}"); sock.end(); }, 20);
    } else {
      sock.write(ok('{"b":2}', "connection: close\r\n"));
    }
  });
  expect(await s.pool.post("{}")).toEqual({ status: 200, text: '{"a":1}' });
  expect(await s.pool.post("{}")).toEqual({ status: 200, text: '{"b":2}' });
  expect(await s.pool.post("{}")).toEqual({ status: 200, text: '{"b":2}' });
  expect(s.connections()).toBe(3);
});

test("broken answers are errors for their request: too large, malformed, closed midway, silent (timeout); the pool goes on", async () => {
  let mode = "";
  const s = server((_req, sock) => {
    if (mode === "large") sock.write(ok("x".repeat(2000)));
    else if (mode === "large-chunked") sock.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${"400\r\n" + "y".repeat(1024) + "\r\n"}`);
    else if (mode === "garbage") sock.write("SPDY/3 nonsense\r\n\r\n");
    else if (mode === "midway") { sock.write('HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"partial":'); sock.end(); }
    else if (mode === "badlen") sock.write("HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n");
    else if (mode === "silent") { /* never answers */ }
    else sock.write(ok('{"ok":true}'));
  });
  for (const [m, check] of [
    ["large", (e: unknown) => e instanceof TooLarge],
    ["large-chunked", (e: unknown) => e instanceof TooLarge],
    ["garbage", (e: unknown) => e instanceof Error && /not an HTTP/.test(e.message)],
    ["midway", (e: unknown) => e instanceof Error && /closed the connection/.test(e.message)],
    ["badlen", (e: unknown) => e instanceof Error && /Content-Length/.test(e.message)],
    ["silent", (e: unknown) => e instanceof TimedOut],
  ] as const) {
    mode = m;
    const e = await s.pool.post("{}").then(() => null, (x: unknown) => x);
    expect([m, check(e)]).toEqual([m, true]);
    mode = "";
    expect(await s.pool.post("{}")).toEqual({ status: 200, text: '{"ok":true}' });
  }
});

test("a refused connection is an error at once", async () => {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  const pool = new HttpPool(new URL(`http://127.0.0.1:${port}/`), 1000, 2000);
  const t0 = performance.now();
  const e = await pool.post("{}").then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(Error);
  expect(e).not.toBeInstanceOf(TimedOut);
  expect(performance.now() - t0).toBeLessThan(1000);
});

test("a 64 KiB chunked body in 1-byte chunks and a Content-Length body in 1-byte packets: read once, correct", async () => {
  const big = "z".repeat(60_000);
  let chunked = true;
  const s = server((_req, sock) => {
    if (chunked) {
      let out = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
      for (const ch of big) out += `1\r\n${ch}\r\n`;
      sock.write(`${out}0\r\n\r\n`);
    } else {
      const text = `HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`;
      void (async () => {
        for (let i = 0; i < text.length; i += 997) {
          sock.write(text.slice(i, i + 997));
          await Bun.sleep(0);
        }
      })();
    }
  });
  const pool = new HttpPool(new URL(`http://127.0.0.1:${(servers.at(-1) as unknown as { port: number }).port}/`), 65_536, 5000);
  const t0 = performance.now();
  expect((await pool.post("{}")).text).toBe(big);
  chunked = false;
  expect((await pool.post("{}")).text).toBe(big);
  expect(performance.now() - t0).toBeLessThan(3000);
  expect(s.connections()).toBe(1);
});

test("not reused: chunked with a Content-Length too; a chunk without its CRLF is refused", async () => {
  let mode = "both";
  const s = server((_req, sock) => {
    if (mode === "both") sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    else if (mode === "nocrlf") sock.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXY0\r\n\r\n");
    else sock.write(ok("{}"));
  });
  expect(await s.pool.post("{}")).toEqual({ status: 200, text: "ok" });
  mode = "";
  expect(await s.pool.post("{}")).toEqual({ status: 200, text: "{}" });
  expect(s.connections()).toBe(2);
  mode = "nocrlf";
  const e = await s.pool.post("{}").then(() => null, (x: unknown) => x);
  expect(String(e)).toContain("CRLF");
});

test("an answer before the whole request was written: that connection is not reused; after close() nothing is pooled and posts fail", async () => {
  let connections = 0;
  const l = Bun.listen<{ answered: boolean }>({
    hostname: "127.0.0.1", port: 0,
    socket: {
      open(sk) { connections++; sk.data = { answered: false }; },
      data(sk, d) {
        // Answers 413 as soon as a head arrives, without reading the (large) body.
        if (!sk.data.answered && d.includes("\r\n\r\n")) {
          sk.data.answered = true;
          sk.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}');
        }
      },
    },
  });
  servers.push(l);
  const pool = new HttpPool(new URL(`http://127.0.0.1:${l.port}/`), 1000, 2000);
  const first = await pool.post(JSON.stringify({ big: "x".repeat(8 * 1024 * 1024) }));
  expect(first).toEqual({ status: 413, text: "{}" });
  // Reused, the next request would wait behind the unwritten rest of the first: a new connection answers it.
  expect(await pool.post("{}")).toEqual({ status: 413, text: "{}" });
  expect(connections).toBe(2);
  pool.close();
  const after = await pool.post("{}").then(() => null, (x: unknown) => x);
  expect(String(after)).toContain("closed");
});
