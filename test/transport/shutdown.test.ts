// Graceful shutdown delivers what is queued, then 1001 to every socket.
import { expect, test } from "bun:test";
import { TestClient, api, startTestServer } from "../helpers.ts";
import { parseFrames, stalledClient } from "../raw-ws.ts";

test("queued data reaches a slow reader before the 1001 close", async () => {
  const pg = startTestServer({ backpressureLimit: 64 * 1024 * 1024, drainTimeoutMs: 10_000, apiMaxBody: 2 * 1024 * 1024 });
  const slow = await stalledClient(pg.port, "slow");
  using other = await TestClient.login(pg, "other");
  const chunk = "q".repeat(100_000);
  const N = 120; // 12 MB: more than loopback buffers hold, so most of it queues in the server
  for (let i = 0; i < N; i += 10) {
    const calls = Array.from({ length: 10 }, (_, j) => ({ method: "sendToUid", params: { uid: "slow", data: `${i + j}|${chunk}` } }));
    expect((await api(pg, "batch", { calls })).status).toBe(200);
  }
  let bytes = Buffer.alloc(0);
  const ended = Promise.withResolvers<void>();
  slow.on("data", (d: Buffer) => { bytes = Buffer.concat([bytes, d]); });
  slow.on("end", () => ended.resolve());
  slow.on("close", () => ended.resolve());
  const stopping = pg.shutdown();
  slow.resume();
  await stopping;
  await Promise.race([ended.promise, Bun.sleep(5000)]);
  const { frames } = parseFrames(bytes);
  const texts = frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
  expect(texts.length).toBe(N);
  texts.forEach((t, i) => expect(t.slice(0, t.indexOf("|"))).toBe(String(i)));
  const close = frames.find((f) => f.opcode === 8);
  expect(close?.payload.readUInt16BE(0)).toBe(1001);
  expect(close?.payload.subarray(2).toString()).toBe("server shutting down");
  expect(await other.closed).toEqual({ code: 1001, reason: "server shutting down" });
  slow.destroy();
});
