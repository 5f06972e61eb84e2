// Slow consumers are closed without slowing others; idle sockets that answer no ping are closed.
import { expect, test } from "bun:test";
import { connect } from "node:net";
import { TestClient, api, metricValue, metrics, startTestServer, waitFor } from "../helpers.ts";
import { RawWs, encodeFrame } from "../raw-ws.ts";

/** A logged-in client over node:net that then stops reading (socket.pause()). */
async function stalledClient(port: number, uid: string) {
  const sock = connect(port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((r) => sock.once("data", r));
  sock.write(encodeFrame(0x1, Buffer.from(uid)));
  await new Promise((r) => sock.once("data", r)); // login reply
  sock.pause();
  return sock;
}

test("a stalled reader is closed at backpressureLimit; a healthy one gets every message in order", async () => {
  await using pg = startTestServer({ backpressureLimit: 256 * 1024 });
  const slow = await stalledClient(pg.port, "slow");
  using fast = await TestClient.login(pg, "fast");
  const slowId = (await api(pg, "getClientIdByUid", { uid: "slow" })).body.result[0];
  for (const clientId of [slowId, (await api(pg, "getClientIdByUid", { uid: "fast" })).body.result[0]]) {
    expect((await api(pg, "joinGroup", { clientId, group: "feed" })).status).toBe(200);
  }
  const N = 400;
  const chunk = "p".repeat(60_000);
  for (let i = 0; i < N; i += 10) {
    const calls = [];
    for (let j = i; j < i + 10; j++) calls.push({ method: "sendToGroup", params: { group: "feed", data: `${j}|${chunk}` } });
    expect((await api(pg, "batch", { calls })).status).toBe(200);
  }
  for (let i = 0; i < N; i++) {
    const m = await fast.next(5000);
    expect(m.slice(0, m.indexOf("|"))).toBe(String(i));
  }
  await waitFor(async () => (await api(pg, "isOnline", { clientId: slowId })).body.result === false, 5000, "slow reader closed");
  expect(metricValue(await metrics(pg), 'pushgate_drops_total{reason="backpressure"}')).toBeGreaterThan(0);
  expect(fast.ws.readyState).toBe(WebSocket.OPEN);
  slow.destroy();
});

test("idle timeout: a client that answers no ping is closed, one that does stays", async () => {
  await using pg = startTestServer({ idleTimeout: 8 });
  const mute = await RawWs.open(pg.port);
  mute.answerPings = false;
  mute.sendText("mute");
  const polite = await RawWs.open(pg.port);
  polite.sendText("polite");
  await mute.waitFrame((f) => f.opcode === 1);
  await polite.waitFrame((f) => f.opcode === 1);
  const t0 = performance.now();
  await Promise.race([mute.ended, Bun.sleep(25_000)]);
  const waited = performance.now() - t0;
  expect(waited).toBeLessThan(25_000);
  expect(waited).toBeGreaterThan(4_000);
  expect(polite.frames.some((f) => f.opcode === 0x9)).toBe(true); // it was pinged
  expect((await api(pg, "isUidOnline", { uid: "polite" })).body.result).toBe(true);
  expect((await api(pg, "isUidOnline", { uid: "mute" })).body.result).toBe(false);
  polite.end();
}, 40_000);
