// The SDK as a plain web page uses it, in a real headless Chromium driven over CDP (test/cdp.ts):
// a page served from another origin imports GET /client.js from the pushgate server as an ES
// module, connects in uid mode (the README snippet), gets an API push live; after a forced
// disconnect (closeClient) with a push made while it was away, it reconnects by itself and
// recovers that push from history exactly once; a pushgate.v1 `send` from the page is answered
// {delivered: 1}. The page logs no console error and throws nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pushgate } from "../../src/server.ts";
import { Browser, type CdpSession, describeBrowser } from "../cdp.ts";
import { api, startTestServer } from "../helpers.ts";

const UID = "browser-42";

/** The page: nothing but an inline module script, as a site would write it. */
function pageHtml(pushgatePort: number): string {
  const base = `http://127.0.0.1:${pushgatePort}`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>pushgate SDK page</title><link rel="icon" href="data:,"></head>
<body><p id="status">loading</p>
<script type="module">
import { PushgateClient } from "${base}/client.js";
window.got = [];
window.events = [];
const client = new PushgateClient({ url: "ws://127.0.0.1:${pushgatePort}/", uid: ${JSON.stringify(UID)} });
window.client = client;
client.on("message", (data, meta) => {
  window.got.push({ data, stream: meta.stream, offset: meta.offset });
  window.events.push({ type: "message", data });
});
client.on("connected", (w) => window.events.push({ type: "connected", clientId: w.clientId, uid: w.uid }));
client.on("disconnected", (d) => window.events.push({ type: "disconnected", code: d.code, reason: d.reason, willReconnect: d.willReconnect }));
client.on("recovered", (r) => window.events.push({ type: "recovered", complete: r.complete, streams: r.streams }));
client.on("gap", (g) => window.events.push({ type: "gap", stream: g.stream, reason: g.reason }));
client.on("error", (e) => window.events.push({ type: "error", code: e.code, message: e.message }));
const welcome = await client.connect();
window.clientId = welcome.clientId;
document.getElementById("status").textContent = "connected as " + welcome.uid;
window.ready = welcome.uid;
</script></body></html>`;
}

describeBrowser("the SDK in a plain web page (headless Chromium)", () => {
  let pg: Pushgate;
  let site: ReturnType<typeof Bun.serve>;
  let browser: Browser;
  let page: CdpSession;
  const problems: string[] = [];

  beforeAll(async () => {
    pg = startTestServer();
    // Another origin (another port), like a real site embedding the SDK.
    site = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => new URL(req.url).pathname === "/"
        ? new Response(pageHtml(pg.port), { headers: { "content-type": "text/html; charset=utf-8" } })
        : new Response("not found", { status: 404 }),
    });
    browser = await Browser.launch();
    console.log(`chromium pid ${browser.pid}`);
    page = await browser.page();
    page.on((method, p) => {
      if (method === "Runtime.exceptionThrown") problems.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      if (method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "warning" || p.type === "assert")) {
        problems.push(`console.${p.type}: ${JSON.stringify(p.args?.map((a: any) => a.value ?? a.description))}`);
      }
      if (method === "Log.entryAdded" && p.entry?.level === "error") problems.push(`log: ${p.entry.text} ${p.entry.url ?? ""}`);
    });
    await Promise.all(["Page.enable", "Runtime.enable", "Log.enable"].map((m) => page.send(m)));
  }, 30_000);

  afterAll(async () => {
    page?.close();
    await browser?.close(); // Browser.close, then SIGKILL by PID
    await site?.stop(true);
    await pg?.shutdown();
  });

  test("import /client.js cross-origin, live push, reconnect with recovery, send", async () => {
    const pageUrl = `http://127.0.0.1:${site.port}/`;
    await page.navigate(pageUrl);
    expect(await page.waitFor<string>(`window.ready`, "the page's connect()")).toBe(UID);
    // A different origin from the pushgate server that served the module.
    expect(await page.evaluate(`location.origin`)).toBe(`http://127.0.0.1:${site.port}`);
    expect(await page.evaluate(`document.getElementById("status").textContent`)).toBe(`connected as ${UID}`);

    // The page's connection is the one the API knows for the uid.
    const ids = await api(pg, "getClientIdByUid", { uid: UID });
    expect(ids.status).toBe(200);
    const clientId = await page.evaluate<string>(`window.clientId`);
    expect(ids.body.result).toEqual([clientId]);

    // A live push through the HTTP API.
    const sent = await api(pg, "sendToUid", { uid: UID, data: { n: 1 } });
    expect(sent.status).toBe(200);
    await page.waitFor(`window.got.some((m) => m.data && m.data.n === 1)`, "the first push");

    // Drop the page's socket and push while it is gone, in one synchronous step on the server
    // (a batch), so the push cannot reach the old socket: only recovery can deliver it.
    const batch = await api(pg, "batch", {
      calls: [
        { method: "closeClient", params: { clientId } },
        { method: "sendToUid", params: { uid: UID, data: { n: 2 } } },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.result[0]).toEqual({ result: true });
    await page.waitFor(`window.events.some((e) => e.type === "recovered")`, "the automatic reconnect's recovery");
    await page.waitFor(`window.got.some((m) => m.data && m.data.n === 2)`, "the missed push");
    await Bun.sleep(300); // a duplicate, if any, would have come by now

    const events = await page.evaluate<any[]>(`window.events`);
    expect(events.map((e) => (e.type === "message" ? `message ${JSON.stringify(e.data)}` : e.type))).toEqual([
      "connected", 'message {"n":1}', "disconnected", "connected", 'message {"n":2}', "recovered",
    ]);
    expect(events[2]).toEqual({ type: "disconnected", code: 1000, reason: "closed by server", willReconnect: true });
    expect(events[3]).toMatchObject({ type: "connected", uid: UID });
    expect(events[3].clientId).not.toBe(clientId);
    expect(events[5].complete).toBe(true);
    expect(events[5].streams.find((s: any) => s.stream === `uid:${UID}`)).toMatchObject({ recovered: true, replayed: 1, offset: 2 });
    // The API sees the new connection only.
    expect((await api(pg, "getClientIdByUid", { uid: UID })).body.result).toEqual([events[3].clientId]);

    // A pushgate.v1 send from the page, to its own uid: one connection reached, and it arrives.
    expect(await page.evaluate(`window.client.send("uid:${UID}", "self")`)).toEqual({ delivered: 1 });
    await page.waitFor(`window.got.some((m) => m.data === "self")`, "the page's own send");
    await Bun.sleep(100);

    expect(await page.evaluate(`window.got`)).toEqual([
      { data: { n: 1 }, stream: `uid:${UID}`, offset: 1 },
      { data: { n: 2 }, stream: `uid:${UID}`, offset: 2 },
      { data: "self", stream: `uid:${UID}`, offset: 3 },
    ]);
    expect(problems).toEqual([]);
  }, 60_000);
});
