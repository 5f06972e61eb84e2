// The README's mistake (issue 13): a `token` callback against a uid-mode server is refused
// (1008 E_AUTH_FAILED: auth needs a string `uid`). connect() must reject with that — once, with
// the code once in the message — not reconnect forever.
import { afterEach, expect, test } from "bun:test";
import { PushgateError } from "../../src/client/index.ts";
import type { Pushgate } from "../../src/server.ts";
import { startTestServer } from "../helpers.ts";
import { Clients, wsUrl } from "./util.ts";

const clients = new Clients();
const servers: Pushgate[] = [];
afterEach(async () => {
  clients.closeAll();
  for (const s of servers.splice(0)) await s.shutdown();
});

test("a token where the server wants a uid: connect() rejects with E_AUTH_FAILED and stops", async () => {
  const pg = startTestServer();
  servers.push(pg);
  let calls = 0;
  const c = clients.make({ url: wsUrl(pg), token: async () => (++calls, "some-token"), reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
  const errors: PushgateError[] = [];
  c.on("error", (e) => errors.push(e));
  const e = (await c.connect().catch((x: unknown) => x)) as PushgateError;
  expect(e).toBeInstanceOf(PushgateError);
  expect(e.code).toBe("E_AUTH_FAILED");
  expect(e.message).toBe("E_AUTH_FAILED: auth needs a string `uid`");
  await Bun.sleep(200);
  expect(calls).toBe(2); // one more try with a fresh token, then it stops
  expect(errors).toHaveLength(1);
  expect(c.state).toBe("closed");
});
