// The SDK as a web page gets it: GET /client.js from the server, imported as an ES module, used
// against that same server; GET /client.d.ts, its declarations.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DECLARATIONS_FILE } from "../../src/build/declarations.ts";
import type { PushgateClient as Client } from "../../src/client/index.ts";
import { api, startTestServer, waitFor } from "../helpers.ts";
import { wsUrl } from "./util.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-client-js-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("GET /client.js is a self-contained ES module whose PushgateClient works", async () => {
  await using pg = startTestServer();
  const res = await fetch(`${pg.url}/client.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/javascript");
  const text = await res.text();
  expect(text).not.toMatch(/\bimport\s*[{*"']|\brequire\(/);

  const file = join(dir, "client.js");
  writeFileSync(file, text);
  const mod = (await import(file)) as { PushgateClient: typeof Client; SUBPROTOCOL: string };
  expect(mod.SUBPROTOCOL).toBe("pushgate.v1");
  const c = new mod.PushgateClient({ url: wsUrl(pg), uid: "bundled" });
  try {
    const got: unknown[] = [];
    c.on("message", (d) => got.push(d));
    expect((await c.connect()).uid).toBe("bundled");
    await api(pg, "sendToUid", { uid: "bundled", data: { ok: true } });
    await waitFor(() => got.length === 1);
    expect(got).toEqual([{ ok: true }]);
    expect(await c.send("uid:bundled", "me")).toEqual({ delivered: 1 });
  } finally {
    c.close();
  }
});

test("GET /client.d.ts serves the SDK's declarations beside it", async () => {
  await using pg = startTestServer();
  const res = await fetch(`${pg.url}/client.d.ts`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/typescript");
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  const text = await res.text();
  expect(text).toBe(readFileSync(DECLARATIONS_FILE, "utf8"));
  expect(text).toContain("export { PushgateClient,");
});
