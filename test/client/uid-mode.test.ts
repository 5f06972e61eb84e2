// The SDK against a real server in uid mode: welcome, pushes from the HTTP API, send() replies,
// and what send() does around disconnects.
import { afterEach, describe, expect, test } from "bun:test";
import { api, startTestServer, waitFor } from "../helpers.ts";
import { Clients, nextEvent, recordMessages, wsUrl } from "./util.ts";

const clients = new Clients();

/** A real server that speaks just enough pushgate.v1 to log in, and never answers a send. */
function silentServer() {
  const sockets = new Set<import("bun").ServerWebSocket<unknown>>();
  let sends = 0;
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    fetch(req, srv) {
      return srv.upgrade(req, { headers: { "Sec-WebSocket-Protocol": "pushgate.v1" } }) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      open(ws) { sockets.add(ws); },
      close(ws) { sockets.delete(ws); },
      message(ws, m) {
        const f = JSON.parse(String(m)) as { type: string };
        if (f.type === "auth") ws.send('{"type":"welcome","clientId":"00000000000000000000","uid":"alice","streams":[]}');
        else if (f.type === "send") sends++;
      },
    },
  });
  return {
    port: server.port,
    get sends() { return sends; },
    dropAll() { for (const ws of sockets) ws.close(1000, "closed by server"); },
    [Symbol.dispose]() { server.stop(true); },
  };
}
afterEach(() => clients.closeAll());

describe("uid mode", () => {
  test("connect() resolves with the welcome; pushes from the HTTP API arrive with their position", async () => {
    await using pg = startTestServer();
    const alice = clients.make({ url: wsUrl(pg), uid: "alice" });
    const got = recordMessages(alice);
    const connected = nextEvent(alice, "connected");
    const welcome = await alice.connect();
    expect(await connected).toBe(welcome);
    expect(welcome.uid).toBe("alice");
    expect(typeof welcome.clientId).toBe("string");
    expect(alice.state).toBe("connected");
    const uidStream = welcome.streams.find((s) => s.stream === "uid:alice");
    expect(uidStream).toMatchObject({ offset: 0 });
    await expect(alice.connect()).resolves.toBe(welcome); // already connected

    expect((await api(pg, "sendToUid", { uid: "alice", data: { text: "hello" } })).body.result.reached).toBe(1);
    await api(pg, "sendToUid", { uid: "alice", data: "second" });
    await waitFor(() => got.length === 2, 2000, "two pushes");
    expect(got[0]).toMatchObject({ data: { text: "hello" }, stream: "uid:alice", epoch: uidStream!.epoch, offset: 1 });
    expect(got[1]).toMatchObject({ data: "second", stream: "uid:alice", offset: 2 });
    expect(typeof got[0]!.ts).toBe("number");
    expect(alice.positions()["uid:alice"]).toEqual({ epoch: uidStream!.epoch, offset: 2 });

    // sendToClient pushes belong to no stream
    await api(pg, "sendToClient", { clientId: welcome.clientId, data: [1, 2] });
    await waitFor(() => got.length === 3, 2000, "the sendToClient push");
    expect(got[2]).toMatchObject({ data: [1, 2], stream: undefined, offset: undefined });
    expect(alice.positions()["uid:alice"]).toEqual({ epoch: uidStream!.epoch, offset: 2 });
  });

  test("send() resolves with the delivered count and rejects with the server's error code", async () => {
    await using pg = startTestServer();
    const alice = clients.make({ url: wsUrl(pg), uid: "alice" });
    const bob = clients.make({ url: wsUrl(pg), uid: "bob" });
    const bob2 = clients.make({ url: wsUrl(pg), uid: "bob" });
    const bobGot = recordMessages(bob);
    await Promise.all([alice.connect(), bob.connect(), bob2.connect()]);

    expect(await alice.send("uid:bob", { text: "hi" })).toEqual({ delivered: 2 });
    await waitFor(() => bobGot.length === 1, 2000, "bob's message");
    expect(bobGot[0]).toMatchObject({ data: { text: "hi" }, stream: "uid:bob", offset: 1 });

    const offline = await alice.send("uid:nobody", 1).then(() => null, (e: unknown) => e);
    expect(offline).toBeInstanceOf(Error);
    expect(offline).toMatchObject({ code: "E_OFFLINE" });

    const [a, b] = await Promise.all([alice.send("uid:bob", 1), alice.send("uid:alice", 2)]);
    expect(a.delivered).toBe(2);
    expect(b.delivered).toBe(1);
  });

  test("E_FORBIDDEN when clients may not send", async () => {
    await using pg = startTestServer({ allowClientSend: false });
    const alice = clients.make({ url: wsUrl(pg), uid: "alice" });
    await alice.connect();
    await expect(alice.send("uid:alice", 1)).rejects.toMatchObject({ code: "E_FORBIDDEN" });
  });

  test("pending sends reject with E_DISCONNECTED on close(); send() while disconnected rejects at once", async () => {
    await using pg = startTestServer();
    const alice = clients.make({ url: wsUrl(pg), uid: "alice" });
    await alice.connect();
    const inFlight = alice.send("uid:alice", "x");
    alice.close();
    await expect(inFlight).rejects.toMatchObject({ code: "E_DISCONNECTED" });
    await expect(alice.send("uid:alice", "y")).rejects.toMatchObject({ code: "E_DISCONNECTED" });
  });

  test("pending sends reject with E_DISCONNECTED when the server drops the socket", async () => {
    // pushgate answers every send, so a server that never does holds them pending until it
    // drops the socket.
    using silent = silentServer();
    const alice = clients.make({ url: `ws://127.0.0.1:${silent.port}/`, uid: "alice", reconnect: { minDelayMs: 5000 } });
    await alice.connect();
    const sends = [alice.send("uid:alice", 1), alice.send("uid:alice", 2)];
    const settled = sends.map((p) => p.then((r) => `ok ${r.delivered}`, (e: { code: string }) => e.code));
    await waitFor(() => silent.sends >= 2, 2000, "both sends at the server");
    const disconnected = nextEvent(alice, "disconnected");
    silent.dropAll();
    expect(await disconnected).toEqual({ code: 1000, reason: "closed by server", willReconnect: true });
    expect(await Promise.all(settled)).toEqual(["E_DISCONNECTED", "E_DISCONNECTED"]);
  });

  test("send() rejects with E_TIMEOUT when no reply comes", async () => {
    using silent = silentServer();
    const alice = clients.make({ url: `ws://127.0.0.1:${silent.port}/`, uid: "alice", sendTimeoutMs: 300 });
    await alice.connect();
    const t0 = performance.now();
    await expect(alice.send("uid:alice", 1)).rejects.toMatchObject({ code: "E_TIMEOUT" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(alice.state).toBe("connected");
  });

  test("every rate-limited send is answered E_RATE_LIMITED for its own id", async () => {
    await using pg = startTestServer({ rateLimit: 1, rateBurst: 2 });
    const alice = clients.make({ url: wsUrl(pg), uid: "alice", sendTimeoutMs: 5000 });
    await alice.connect();
    // burst 2: the auth and send 1 pass; sends 2 and 3 are dropped, and each is answered for its
    // id with E_RATE_LIMITED. A send whose answer never comes (here: the socket is stopped from
    // reading) rejects with E_TIMEOUT.
    const sends = [alice.send("uid:alice", 1), alice.send("uid:alice", 2), alice.send("uid:alice", 3)];
    const codes = await Promise.all(sends.map((p) => p.then(() => "ok", (e: { code: string }) => e.code)));
    expect(codes).toEqual(["ok", "E_RATE_LIMITED", "E_RATE_LIMITED"]);
    expect(alice.state).toBe("connected");
  });
});
