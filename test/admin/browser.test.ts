// The /admin dashboard in a real headless Chromium, driven over CDP (test/cdp.ts): a wrong key is
// refused, the right one logs in (typed, submitted with Enter), a real WebSocket client shows up,
// a test push sent from the page's form is delivered and counted, a uid lookup shows its
// connection (groups, session), the lifecycle events list it; screenshots at desktop and phone
// size are saved under the test's temp dir (paths logged). The key never appears in a URL, the
// page throws nothing and violates no CSP rule, and nothing overflows a phone's width.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pushgate } from "../../src/server.ts";
import { Browser, type CdpSession, describeBrowser } from "../cdp.ts";
import { TestClient, api, startTestServer } from "../helpers.ts";

const KEY = "browser-admin-key-7f3a";
const auth = { authorization: `Bearer ${KEY}` };

describeBrowser("admin dashboard in headless Chromium", () => {
  let pg: Pushgate;
  let browser: Browser;
  let page: CdpSession;
  const dir = mkdtempSync(join(tmpdir(), "pushgate-admin-test-"));
  const problems: string[] = [];
  const requests: { url: string; headers: Record<string, string> }[] = [];

  beforeAll(async () => {
    pg = startTestServer({ apiKey: KEY });
    browser = await Browser.launch();
    console.log(`chromium pid ${browser.pid}; screenshots in ${dir}`);
    page = await browser.page();
    page.on((method, p) => {
      if (method === "Runtime.exceptionThrown") problems.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      if (method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "warning")) problems.push(`console.${p.type}: ${JSON.stringify(p.args?.map((a: any) => a.value ?? a.description))}`);
      if (method === "Log.entryAdded" && p.entry?.level === "error") problems.push(`log: ${p.entry.text} ${p.entry.url ?? ""}`);
      if (method === "Network.requestWillBeSent") requests.push({ url: p.request.url, headers: p.request.headers });
    });
    await Promise.all(["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"].map((m) => page.send(m)));
    await page.send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  }, 30_000);

  afterAll(async () => {
    page?.close();
    await browser?.close();
    await pg?.shutdown();
  });

  const text = (id: string) => `document.getElementById(${JSON.stringify(id)}).textContent`;
  /** The value of the overview tile labelled `label` ("" when absent). */
  const tile = (label: string) => `([...document.querySelectorAll("#tiles .tile")].find((t) => t.querySelector("dt").textContent === ${JSON.stringify(label)})?.querySelector("dd").firstChild.textContent ?? "")`;

  async function screenshot(name: string, fullPage: boolean): Promise<string> {
    const png = await page.screenshot(fullPage);
    const path = join(dir, name);
    await Bun.write(path, png);
    console.log(`screenshot: ${path} (${png.length} bytes)`);
    // A PNG (signature, IHDR) of the size asked, and not a blank page (those compress to a few KiB).
    expect([...png.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(new TextDecoder().decode(png.slice(12, 16))).toBe("IHDR");
    expect(png.length).toBeGreaterThan(25_000);
    return path;
  }

  test("log in, see a connection and a push counted, look up the uid, screenshots", async () => {
    await page.navigate(`${pg.url}/admin`);
    await page.waitFor(`document.body.dataset.state === "login"`, "the login form");
    // Only the login form is shown: the dashboard and its buttons are not (and not focusable).
    expect(await page.evaluate(`["dash", "logout", "pause"].map((id) => document.getElementById(id).offsetParent === null)`)).toEqual([true, true, true]);
    expect(await page.evaluate(`document.activeElement.id`)).toBe("key");

    // A wrong key is refused, in the page, and the form stays.
    await page.evaluate(`document.getElementById("key").value = "wrong-key"; document.getElementById("login-form").requestSubmit()`);
    await page.waitFor(`${text("login-error")}.includes("refused")`, "the refusal");
    expect(await page.evaluate(`document.body.dataset.state`)).toBe("login");

    // The right key, typed into the focused field and submitted with Enter (keyboard only).
    await page.evaluate(`document.getElementById("key").value = ""; document.getElementById("key").focus()`);
    await page.send("Input.insertText", { text: KEY });
    for (const type of ["keyDown", "keyUp"]) await page.send("Input.dispatchKeyEvent", { type, key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, text: type === "keyDown" ? "\r" : undefined });
    await page.waitFor(`document.body.dataset.state === "live" && Number(document.body.dataset.polls) >= 1`, "the dashboard");
    expect(await page.evaluate(tile("Connections"))).toBe("0");
    expect(await page.evaluate(text("status"))).toContain(pg.hub.nodeId);

    // A real client connects and logs in: the page shows it within a poll or two.
    using client = await TestClient.login(pg, "browser-user");
    const [clientId] = (await api(pg, "getClientIdByUid", { uid: "browser-user" }, auth)).body.result as string[];
    await api(pg, "joinGroup", { clientId, group: "lobby" }, auth);
    await api(pg, "setSession", { clientId, session: { plan: "pro", name: "<b>not markup</b>" } }, auth);
    await page.waitFor(`${tile("Connections")} === "1" && ${tile("Uids online")} === "1" && ${tile("Groups")} === "1"`, "the connection in the overview");

    // A test push from the page's form: delivered to the client, then counted by the dashboard.
    const got = client.next(5000);
    await page.evaluate(`(() => {
      document.getElementById("push-kind").value = "uid";
      document.getElementById("push-kind").dispatchEvent(new Event("change"));
      document.getElementById("push-target").value = "browser-user";
      document.getElementById("push-data").value = "hello from chromium";
      document.getElementById("push-form").requestSubmit();
    })()`);
    expect(await got).toBe("hello from chromium");
    await page.waitFor(`${text("push-result")}.includes("reached 1 connection")`, "the push answer");
    await page.waitFor(`${tile("Pushes")} === "1"`, "the push counted");

    // Lookup by uid: its connection, groups and session (as text: the session's markup is not parsed).
    await page.evaluate(`(() => {
      document.getElementById("lookup-value").value = "browser-user";
      document.getElementById("lookup-form").requestSubmit();
    })()`);
    await page.waitFor(`${text("lookup-result")}.includes(${JSON.stringify(clientId)})`, "the lookup");
    const found = await page.evaluate<string>(text("lookup-result"));
    expect(found).toContain("uid browser-user: 1 connection.");
    expect(found).toContain("lobby");
    expect(found).toContain('"plan": "pro"');
    expect(found).toContain("<b>not markup</b>");
    expect(await page.evaluate(`document.querySelector("#lookup-result b")`)).toBeNull();

    // Recent events list the login; the charts have drawn something.
    await page.waitFor(`[...document.querySelectorAll("#events tbody tr")].some((r) => r.textContent.includes("login") && r.textContent.includes("browser-user"))`, "the login event");
    expect(await page.evaluate(`document.getElementById("chart-conns").width`)).toBeGreaterThan(200);
    expect(await page.evaluate<string>(text("chart-conns-d"))).toContain("connections: 1");

    // Accessibility basics: every control is labelled, every button has a name.
    const unlabelled = await page.evaluate<string[]>(`[...document.querySelectorAll("input, select, textarea")]
      .filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label")).map((e) => e.id || e.name)`);
    expect(unlabelled).toEqual([]);
    expect(await page.evaluate(`[...document.querySelectorAll("button")].filter((b) => b.textContent.trim() === "").length`)).toBe(0);

    // One more poll: the charts have two points.
    const shown = Number(await page.evaluate(`document.body.dataset.polls`));
    await page.waitFor(`Number(document.body.dataset.polls) > ${shown}`, "another poll");
    await screenshot("admin-desktop.png", true);

    // Phone size: one column, nothing wider than the screen.
    await page.send("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
    const polls = Number(await page.evaluate(`document.body.dataset.polls`));
    await page.waitFor(`Number(document.body.dataset.polls) > ${polls}`, "a poll at phone size");
    const widths = await page.evaluate<{ doc: number; inner: number }>(`({ doc: document.documentElement.scrollWidth, inner: window.innerWidth })`);
    expect(widths.doc).toBeLessThanOrEqual(widths.inner);
    await page.evaluate(`window.scrollTo(0, 0)`);
    await screenshot("admin-phone.png", false);
    await page.evaluate(`document.getElementById("lookup-h").scrollIntoView()`);
    await screenshot("admin-phone-lookup.png", false);

    // The key went in Authorization headers only, never in a URL.
    expect(requests.filter((r) => r.url.includes(KEY))).toEqual([]);
    const statsCalls = requests.filter((r) => r.url.includes("/admin/api/stats"));
    expect(statsCalls.length).toBeGreaterThan(1);
    expect(statsCalls.at(-1)!.headers.Authorization ?? statsCalls.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);

    // Log out: back to the form, the key forgotten by the tab.
    await page.evaluate(`document.getElementById("logout").click()`);
    await page.waitFor(`document.body.dataset.state === "login"`, "the logout");
    expect(await page.evaluate(`sessionStorage.length`)).toBe(0);
    // The wrong-key attempt logged its 401 as a failed resource load; nothing else went wrong.
    const refused = `log: Failed to load resource: the server responded with a status of 401 (Unauthorized) ${pg.url}/admin/api/stats?events=100`;
    expect(problems.filter((p) => p !== refused)).toEqual([]);
  }, 60_000);
});
