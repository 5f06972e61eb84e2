// Reconnect and recovery against a real server: a forced disconnect recovers every missed
// message in order; a server restart loses history (gap, reason "epoch"); close() stops it all.
import { afterEach, describe, expect, test } from "bun:test";
import type { GapInfo, RecoveryFrame } from "../../src/client/index.ts";
import { api, startTestServer, waitFor } from "../helpers.ts";
import { Clients, nextEvent, recordMessages, wsUrl } from "./util.ts";

const clients = new Clients();
afterEach(() => clients.closeAll());

const fast = { minDelayMs: 20, maxDelayMs: 200 };
const push = (uid: string, n: number) => ({ method: "sendToUid", params: { uid, data: { n } } });

describe("recovery", () => {
  test("after a forced disconnect the client ends with the full ordered sequence", async () => {
    await using pg = startTestServer();
    const c = clients.make({ url: wsUrl(pg), uid: "rec", reconnect: fast });
    const got = recordMessages(c);
    const recovered: RecoveryFrame[] = [];
    const gaps: GapInfo[] = [];
    c.on("recovered", (f) => recovered.push(f));
    c.on("gap", (g) => gaps.push(g));
    const first = await c.connect();

    for (let n = 1; n <= 3; n++) await api(pg, "sendToUid", { uid: "rec", data: { n } });
    await waitFor(() => got.length === 3, 2000, "three live pushes");

    // One synchronous step on the server: drop the socket, then publish 4..8 while it is gone.
    const disconnected = nextEvent(c, "disconnected");
    const reconnected = nextEvent(c, "connected");
    const calls: Array<{ method: string; params: unknown }> = [{ method: "closeClient", params: { clientId: first.clientId } }];
    for (let n = 4; n <= 8; n++) calls.push(push("rec", n));
    const batch = await api(pg, "batch", { calls });
    expect(batch.body.result[0]).toEqual({ result: true });
    expect(await disconnected).toMatchObject({ code: 1000, willReconnect: true });
    const second = await reconnected;
    expect(second.clientId).not.toBe(first.clientId);
    await waitFor(() => recovered.length === 1, 2000, "the recovery frame");

    const rec = recovered[0]!;
    expect(rec.complete).toBe(true);
    expect(rec.streams.find((s) => s.stream === "uid:rec")).toMatchObject({ recovered: true, replayed: 5, offset: 8 });
    expect(gaps).toEqual([]);

    for (let n = 9; n <= 10; n++) await api(pg, "sendToUid", { uid: "rec", data: { n } });
    await waitFor(() => got.length >= 10, 2000, "ten messages");
    await Bun.sleep(50);
    expect(got.map((m) => (m.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(got.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(c.positions()["uid:rec"]?.offset).toBe(10);
  });

  test("broadcasts missed while disconnected are recovered from the all stream", async () => {
    await using pg = startTestServer();
    const c = clients.make({ url: wsUrl(pg), uid: "b1", reconnect: fast });
    const got = recordMessages(c);
    const first = await c.connect();
    await api(pg, "sendToAll", { data: "a" });
    await waitFor(() => got.length === 1);
    const recovered = nextEvent(c, "recovered");
    await api(pg, "batch", {
      calls: [
        { method: "closeClient", params: { clientId: first.clientId } },
        { method: "sendToAll", params: { data: "b" } },
        { method: "sendToUid", params: { uid: "b1", data: "c" } },
        { method: "sendToAll", params: { data: "d" } },
      ],
    });
    const rec = await recovered;
    expect(rec.complete).toBe(true);
    await waitFor(() => got.length === 4);
    expect(got.filter((m) => m.stream === "all").map((m) => m.data)).toEqual(["a", "b", "d"]);
    expect(got.filter((m) => m.stream === "uid:b1").map((m) => m.data)).toEqual(["c"]);
  });

  test("a positions() snapshot given to a new client resumes where the old one stopped", async () => {
    await using pg = startTestServer();
    const a = clients.make({ url: wsUrl(pg), uid: "saver" });
    const gotA = recordMessages(a);
    await a.connect();
    for (let n = 1; n <= 3; n++) await api(pg, "sendToUid", { uid: "saver", data: n });
    await waitFor(() => gotA.length === 3);
    const saved = JSON.parse(JSON.stringify(a.positions())); // e.g. through localStorage
    a.close();
    for (let n = 4; n <= 5; n++) await api(pg, "sendToUid", { uid: "saver", data: n });

    const b = clients.make({ url: wsUrl(pg), uid: "saver", positions: saved });
    const gotB = recordMessages(b);
    const recovered = nextEvent(b, "recovered");
    await b.connect();
    const rec = await recovered;
    expect(rec.complete).toBe(true);
    expect(rec.streams.find((s) => s.stream === "uid:saver")).toMatchObject({ recovered: true, replayed: 2 });
    await waitFor(() => gotB.length === 2);
    await api(pg, "sendToUid", { uid: "saver", data: 6 });
    await waitFor(() => gotB.length === 3);
    expect(gotB.map((m) => m.data)).toEqual([4, 5, 6]);
  });

  test("after a server restart on the same port the client reconnects by itself and reports an epoch gap", async () => {
    let pg = startTestServer();
    const port = pg.port;
    try {
      const c = clients.make({ url: wsUrl(pg), uid: "phoenix", reconnect: fast });
      const got = recordMessages(c);
      const gaps: GapInfo[] = [];
      c.on("gap", (g) => gaps.push(g));
      const first = await c.connect();
      const oldEpoch = first.streams.find((s) => s.stream === "uid:phoenix")!.epoch;
      await api(pg, "sendToUid", { uid: "phoenix", data: 1 });
      await api(pg, "sendToUid", { uid: "phoenix", data: 2 });
      await waitFor(() => got.length === 2);

      const disconnected = nextEvent(c, "disconnected");
      await pg.shutdown();
      expect(await disconnected).toMatchObject({ code: 1001, willReconnect: true });
      await Bun.sleep(100); // a few refused attempts
      const reconnected = nextEvent(c, "connected", 5000);
      const recovered = nextEvent(c, "recovered", 5000);
      pg = startTestServer({ port });
      const second = await reconnected;
      const rec = await recovered;
      expect(rec.complete).toBe(false);
      const newEpoch = second.streams.find((s) => s.stream === "uid:phoenix")!.epoch;
      expect(newEpoch).not.toBe(oldEpoch);
      expect(rec.streams.find((s) => s.stream === "uid:phoenix")).toMatchObject({ recovered: false, reason: "epoch", replayed: 0 });
      expect(gaps).toContainEqual({ stream: "uid:phoenix", reason: "epoch" });

      // the new epoch is adopted: offset 1 of the new history is not taken for a duplicate
      await api(pg, "sendToUid", { uid: "phoenix", data: 3 });
      await waitFor(() => got.length === 3);
      expect(got[2]).toMatchObject({ data: 3, epoch: newEpoch, offset: 1 });
      expect(c.positions()["uid:phoenix"]).toEqual({ epoch: newEpoch, offset: 1 });
    } finally {
      clients.closeAll();
      await pg.shutdown();
    }
  });

  test("close() stops reconnecting, also when called during the backoff", async () => {
    await using pg = startTestServer();
    const c = clients.make({ url: wsUrl(pg), uid: "quiet", reconnect: fast });
    let connects = 0;
    c.on("connected", () => connects++);
    await c.connect();
    const disconnected = nextEvent(c, "disconnected");
    c.close();
    expect(await disconnected).toEqual({ code: 1000, reason: "client closed", willReconnect: false });
    expect(c.state).toBe("closed");
    await waitFor(async () => (await api(pg, "getAllClientCount")).body.result === 0, 2000, "the server to see the close");
    await Bun.sleep(300);
    expect(connects).toBe(1);
    expect((await api(pg, "getAllClientCount")).body.result).toBe(0);

    // connect() again works; then close() from the disconnected listener, while a reconnect is armed
    const again = await c.connect();
    expect(connects).toBe(2);
    c.once("disconnected", (d) => {
      expect(d.willReconnect).toBe(true);
      c.close();
    });
    await api(pg, "closeClient", { clientId: again.clientId });
    await Bun.sleep(400);
    expect(connects).toBe(2);
    expect(c.state).toBe("closed");
    expect((await api(pg, "getAllClientCount")).body.result).toBe(0);
  });
});
