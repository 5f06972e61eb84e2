// Slow consumers are closed without slowing others; idle sockets that answer no ping are closed.
import { expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer, waitFor } from "../helpers.ts";
import { RawWs, stalledClient } from "../raw-ws.ts";

test("a stalled reader is closed at backpressureLimit; a healthy one gets every message in order", async () => {
  await using pg = startTestServer({ backpressureLimit: 256 * 1024, apiMaxBody: 2 * 1024 * 1024 });
  const slow = await stalledClient(pg.port, "slow");
  using fast = await TestClient.login(pg, "fast");
  const slowId = (await api(pg, "getClientIdByUid", { uid: "slow" })).body.result[0];
  for (const clientId of [slowId, (await api(pg, "getClientIdByUid", { uid: "fast" })).body.result[0]]) {
    expect((await api(pg, "joinGroup", { clientId, group: "feed" })).status).toBe(200);
  }
  // Push until the stalled reader is cut off (kernel buffers absorb an unknown amount first),
  // bounded at 4,000 messages of 60 KB; the healthy reader must get every one, in order.
  const chunk = "p".repeat(60_000);
  const closesBefore = metricValue(await metrics(pg), 'pushgate_closes_total{code="1006"}');
  let sent = 0;
  while (sent < 4000 && (await api(pg, "isOnline", { clientId: slowId })).body.result === true) {
    const calls = [];
    for (let j = 0; j < 10; j++, sent++) calls.push({ method: "sendToGroup", params: { group: "feed", data: `${sent}|${chunk}` } });
    expect((await api(pg, "batch", { calls })).status).toBe(200);
    for (let j = sent - 10; j < sent; j++) {
      const m = await fast.next(5000);
      expect(m.slice(0, m.indexOf("|"))).toBe(String(j));
    }
  }
  await waitFor(async () => (await api(pg, "isOnline", { clientId: slowId })).body.result === false, 5000, "slow reader closed");
  expect(metricValue(await metrics(pg), 'pushgate_closes_total{code="1006"}')).toBe(closesBefore + 1);
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
