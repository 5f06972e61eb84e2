// --seed-errors: a seed socket is told of a refused frame by a JSON error frame (json, the
// default) or not at all, as the Workerman seed (silent); counted either way, closes unchanged.
import { expect, test } from "bun:test";
import { TestClient, metrics, metricValue, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";

const badFrames = (text: string) => metricValue(text, 'pushgate_errors_total{code="E_BAD_FRAME"}');

test("json (default): a bad seed frame gets an error frame", async () => {
  await using pg = startTestServer();
  using c = await TestClient.login(pg, "a");
  c.send("no colon here");
  expect(JSON.parse(await c.next())).toMatchObject({ type: "error", code: "E_BAD_FRAME" });
});

test("silent: nothing is sent, the error is counted, the bad-frame limit still closes with its reason", async () => {
  await using pg = startTestServer({ seedErrors: "silent", maxBadFrames: 3, allowClientSend: false });
  using c = await TestClient.login(pg, "a");
  using other = await TestClient.login(pg, "b");
  c.send("b:refused push"); // E_FORBIDDEN (--no-allow-client-send): silent too
  c.send("no colon here");
  c.send("also bad");
  expect(await c.nothingWithin(200)).toBe(true);
  expect(await other.nothingWithin(0)).toBe(true);
  const text = await metrics(pg);
  expect(badFrames(text)).toBe(2);
  expect(metricValue(text, 'pushgate_errors_total{code="E_FORBIDDEN"}')).toBe(1);
  c.send("third bad frame");
  expect(await c.closed).toEqual({ code: 1008, reason: "E_BAD_FRAME: too many bad frames" });
});

test("silent applies to seed sockets only: pushgate.v1 still gets its error frames", async () => {
  await using pg = startTestServer({ seedErrors: "silent" });
  using v1 = await JsonClient.connect(pg);
  v1.send({ type: "auth", uid: "v" });
  await v1.next("welcome");
  v1.send({ type: "nonsense", id: 1 });
  expect(await v1.next()).toMatchObject({ type: "error", code: "E_BAD_FRAME", id: 1 });
});
