// Who may call the API: bearer key when configured, else loopback only.
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { isLoopback } from "../../src/api/access.ts";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";

describe("isLoopback", () => {
  test.each(["127.0.0.1", "127.5.6.7", "127.255.255.254", "::1", "::ffff:127.0.0.1"])("%p is loopback", (ip) => {
    expect(isLoopback(ip)).toBe(true);
  });
  test.each(["10.0.0.1", "192.168.1.1", "::ffff:10.0.0.1", "2001:db8::1", "", "0.0.0.0", "::", "128.0.0.1"])("%p is not loopback", (ip) => {
    expect(isLoopback(ip)).toBe(false);
  });
});

describe("with an API key", () => {
  const KEY = "s3cret-key";
  const unauthorized = {
    status: 401,
    body: { error: { code: "E_UNAUTHORIZED", message: "missing or wrong API key (Authorization: Bearer <key>)" } },
  };

  test("no header or a wrong key → 401 and nothing is delivered; the right key → 200", async () => {
    await using pg = startTestServer({ apiKey: KEY });
    using c = await TestClient.login(pg, "guarded");
    const before = await metrics(pg);
    const params = { uid: "guarded", data: "secret-push" };
    expect(await api(pg, "sendToUid", params)).toEqual(unauthorized);
    for (const authorization of [
      "Bearer wrong", `Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, `Basic ${KEY}`, KEY, "Bearer ", `Token ${KEY}`,
    ]) {
      expect(await api(pg, "sendToUid", params, { authorization })).toEqual(unauthorized);
    }
    expect(await c.nothingWithin()).toBe(true);

    expect(await api(pg, "sendToUid", params, { authorization: `Bearer ${KEY}` }))
      .toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe("secret-push");
    // The scheme is case-insensitive and surrounding spaces around the key are ignored.
    expect(await api(pg, "getAllUidList", {}, { authorization: `bearer  ${KEY} ` }))
      .toEqual({ status: 200, body: { result: ["guarded"] } });
    expect(await c.nothingWithin()).toBe(true);

    const after = await metrics(pg);
    const delta = (s: string) => metricValue(after, s) - metricValue(before, s);
    expect(delta('pushgate_api_requests_total{method="sendToUid",status="401"}')).toBe(8);
    expect(delta('pushgate_api_requests_total{method="sendToUid",status="200"}')).toBe(1);
    expect(delta('pushgate_errors_total{code="E_UNAUTHORIZED"}')).toBe(8);
  });

  test("the key is checked before the method name and the body", async () => {
    await using pg = startTestServer({ apiKey: KEY });
    expect(await api(pg, "noSuchMethod", {})).toEqual(unauthorized);
    expect(await api(pg, "sendToUid", "{not json")).toEqual(unauthorized);
    const unknown = await api(pg, "noSuchMethod", {}, { authorization: `Bearer ${KEY}` });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("E_UNKNOWN_METHOD");
  });
});

describe("without an API key", () => {
  test("loopback callers are answered", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "open");
    expect(pg.url).toStartWith("http://127.0.0.1:");
    expect(await api(pg, "sendToUid", { uid: "open", data: "hi" })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await c.next()).toBe("hi");
    // A stray Authorization header does not matter when no key is configured.
    expect(await api(pg, "isUidOnline", { uid: "open" }, { authorization: "Bearer anything" }))
      .toEqual({ status: 200, body: { result: true } });
  });

  test("IPv6 loopback and IPv4-mapped loopback callers are answered", async () => {
    // Listening on ::1 only: the caller's address is ::1.
    await using v6 = startTestServer({ host: "::1" });
    expect(v6.url).toBe(`http://[::1]:${v6.port}`);
    expect(await api(v6, "getAllClientCount")).toEqual({ status: 200, body: { result: 0 } });
    // Dual-stack listener reached over IPv4 127.0.0.1: the caller's address is ::ffff:127.0.0.1.
    await using dual = startTestServer({ host: "::" });
    expect(await api({ url: `http://127.0.0.1:${dual.port}` }, "getAllClientCount")).toEqual({ status: 200, body: { result: 0 } });
    expect(await api({ url: `http://[::1]:${dual.port}` }, "getAllClientCount")).toEqual({ status: 200, body: { result: 0 } });
  });

  // Needs an address that is not loopback (the machine's own interface): the caller's source
  // address is then that interface's, so the server must refuse it.
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;
  test.skipIf(external === undefined)("a caller from a non-loopback address is refused when listening on all addresses", async () => {
    await using pg = startTestServer({ host: "0.0.0.0" });
    const res = await api({ url: `http://${external}:${pg.port}` }, "getAllClientCount");
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("E_FORBIDDEN");
    // The same server still answers over loopback.
    expect(await api({ url: `http://127.0.0.1:${pg.port}` }, "getAllClientCount")).toEqual({ status: 200, body: { result: 0 } });
  });
});
