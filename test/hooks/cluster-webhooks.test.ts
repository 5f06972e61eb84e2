// Webhooks on a cluster (3 real nodes over a real Redis, a real receiver): user.online /
// user.offline cluster-wide, exactly once per transition (a uid on two nodes is one online; a
// reload on another node is neither); a SIGKILLed node's uids go offline once, after the
// presence TTL; the durable outbox: the node sending (the lease holder) is SIGKILLed while the
// receiver refuses, and its events still arrive, from the node that takes over;
// message.undelivered for a client push to a uid with no connection anywhere.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { TestClient } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { type Node, killStartedNodes, startNodes, until } from "../cluster/nodes.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";

const SECRET = "cluster-webhook-secret-1";

interface Ev { id: string; name: string; uid?: string; to?: string; data?: unknown; from?: { uid: string } }

/** The receiver: verifies every POST (the docs' TypeScript check), records events; can refuse for a while. */
class Receiver {
  readonly events: Ev[] = [];
  bad = 0;
  refusing = false;
  refused = 0;
  private readonly server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    fetch: async (req) => {
      const body = await req.text();
      const ts = req.headers.get("x-pushgate-timestamp");
      const sig = req.headers.get("x-pushgate-signature");
      if (!verify(body, ts, sig, SECRET)) {
        this.bad++;
        return new Response("bad signature", { status: 401 });
      }
      if (this.refusing) {
        this.refused++;
        return new Response("down", { status: 503 });
      }
      this.events.push(...(JSON.parse(body) as { events: Ev[] }).events);
      return new Response("ok");
    },
  });

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/events`;
  }

  /** Events seen, de-duplicated by id (at least once: a retry may repeat one). */
  unique(): Ev[] {
    const seen = new Set<string>();
    return this.events.filter((e) => !seen.has(e.id) && seen.add(e.id));
  }

  of(name: string, uid: string): Ev[] {
    return this.unique().filter((e) => e.name === name && (e.uid ?? e.to) === uid);
  }

  stop(): void {
    this.server.stop(true);
  }
}

function verify(body: string, ts: string | null, sig: string | null, secret: string): boolean {
  if (ts === null || sig === null || Math.abs(Date.now() - Number(ts)) > 300_000) return false;
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`);
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

describeRedis("webhooks on a cluster", () => {
  let redis: RedisServer;
  let rcv: Receiver;
  let nodes: Node[] = [];
  const clients: Array<{ close(): void }> = [];
  const DEBOUNCE = 400;

  beforeAll(async () => {
    redis = await RedisServer.start();
    rcv = new Receiver();
    nodes = await startNodes(redis, ["a", "b", "c"], [
      "--webhook-url", rcv.url, "--webhook-secret", SECRET, "--webhook-batch", "20ms",
      "--webhook-debounce", `${DEBOUNCE}ms`, "--webhook-retry", "1m",
    ]);
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) try { c.close(); } catch {}
    await killStartedNodes();
    rcv?.stop();
    await redis?.stop();
  }, 30_000);

  const login = async (n: Node, uid: string) => {
    const c = await TestClient.login(n, uid);
    clients.push(c);
    return c;
  };
  const closed = async (c: TestClient) => {
    c.close();
    await c.closed;
  };
  const holder = async () => {
    const id = (await redis.command("GET", ["pushgate:wh:lease"])) as string | null;
    return nodes.find((n) => n.running && n.nodeId === id);
  };

  test("a uid on two nodes is online once; offline once after its last connection is gone for the debounce; a reload elsewhere is neither", async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    const x1 = await login(a, "p1");
    const x2 = await login(b, "p1");
    await until(() => rcv.of("connection.open", "p1").length === 2 || undefined, "two connection.open", 5000);
    await Bun.sleep(300);
    expect(rcv.of("user.online", "p1")).toHaveLength(1);
    await closed(x1);
    await Bun.sleep(DEBOUNCE + 600); // still held on b: no offline
    expect(rcv.of("user.offline", "p1")).toHaveLength(0);
    // A reload: b's connection goes, one on c comes within the debounce.
    await closed(x2);
    const x3 = await login(c, "p1");
    await Bun.sleep(DEBOUNCE + 600);
    expect(rcv.of("user.offline", "p1")).toHaveLength(0);
    expect(rcv.of("user.online", "p1")).toHaveLength(1);
    await closed(x3);
    await until(() => rcv.of("user.offline", "p1").length === 1 || undefined, "one user.offline", 5000);
    await Bun.sleep(DEBOUNCE + 600);
    expect(rcv.of("user.offline", "p1")).toHaveLength(1);
    expect(rcv.of("connection.close", "p1")).toHaveLength(3);
    // Back later: a new transition.
    const x4 = await login(a, "p1");
    await until(() => rcv.of("user.online", "p1").length === 2 || undefined, "a second user.online", 5000);
    await closed(x4);
    await until(() => rcv.of("user.offline", "p1").length === 2 || undefined, "a second user.offline", 5000);
    expect(rcv.bad).toBe(0);
    expect(rcv.events.length).toBe(rcv.unique().length); // nothing was sent twice here
  });

  test("message.undelivered: a client push to a uid with no connection anywhere (seed and pushgate.v1); none when another node holds it", async () => {
    const [a, b] = nodes as [Node, Node, Node];
    const held = await login(b, "here");
    const s = await login(a, "sender");
    s.send("nobody:hello");
    s.send("here:hi");
    const j = await JsonClient.connect(a);
    clients.push(j);
    j.send({ type: "auth", uid: "jsender" });
    await j.next("welcome", 5000);
    j.send({ type: "send", id: 1, to: "uid:nobody2", data: { n: 1 } });
    expect((await j.next("reply", 5000)).error?.code).toBe("E_OFFLINE");
    await until(() => rcv.of("message.undelivered", "nobody2").length === 1 || undefined, "undelivered (v1)", 5000);
    const seed = rcv.of("message.undelivered", "nobody");
    expect(seed).toHaveLength(1);
    expect(seed[0]!.data).toBe("hello");
    expect(seed[0]!.from?.uid).toBe("sender");
    expect(rcv.of("message.undelivered", "nobody2")[0]!.data).toEqual({ n: 1 });
    expect(await held.next()).toBe("hi");
    expect(rcv.of("message.undelivered", "here")).toHaveLength(0);
  });

  test("a node stalled past the presence TTL: its uids go offline once; when it comes back it writes them again (online again)", async () => {
    // Not the sender (a sender that dies is the next tests' case).
    const sender = await holder();
    const c = nodes.find((n) => n.running && n !== sender)!;
    const x = await login(c, "stall1");
    await until(() => rcv.of("user.online", "stall1").length === 1 || undefined, "stall1 online", 5000);
    c.freeze();
    try {
      await until(() => rcv.of("user.offline", "stall1").length === 1 || undefined, "stall1 offline while its node is stalled", 10_000);
    } finally {
      c.thaw();
    }
    await until(() => rcv.of("user.online", "stall1").length === 2 || undefined, "stall1 online again once its node is back", 10_000);
    await closed(x);
    await until(() => rcv.of("user.offline", "stall1").length === 2 || undefined, "stall1 offline after its close", 5000);
  }, 30_000);

  test("a SIGKILLed node's uids go offline once, after the presence TTL (and the sender lease moves if it held it)", async () => {
    const victim = (await holder())!;
    expect(victim).toBeDefined();
    await login(victim, "dies1");
    await login(victim, "dies2");
    const other = nodes.find((n) => n !== victim && n.running)!;
    const keeps = await login(other, "dies2"); // dies2 stays online through its other connection
    await until(() => rcv.of("user.online", "dies1").length === 1 && rcv.of("user.online", "dies2").length === 1 || undefined, "online", 5000);
    await victim.kill("SIGKILL");
    await until(() => rcv.of("user.offline", "dies1").length === 1 || undefined, "dies1 offline after the node died", 10_000);
    await Bun.sleep(1500);
    expect(rcv.of("user.offline", "dies1")).toHaveLength(1);
    expect(rcv.of("user.offline", "dies2")).toHaveLength(0);
    expect(await holder()).toBeDefined(); // another node took the lease
    await closed(keeps);
    await until(() => rcv.of("user.offline", "dies2").length === 1 || undefined, "dies2 offline", 5000);
  }, 30_000);

  test("the sending node is SIGKILLed with events in the outbox: they still arrive, from the node that takes over", async () => {
    rcv.refusing = true;
    const sender = (await holder())!;
    const other = nodes.find((n) => n !== sender && n.running)!;
    const uids = Array.from({ length: 20 }, (_, i) => `ob${i}`);
    const cs: TestClient[] = [];
    for (const [i, u] of uids.entries()) cs.push(await login(i % 2 ? sender : other, u));
    await until(() => rcv.refused >= 2 || undefined, "the receiver refusing", 5000);
    // Events wait in Redis: the stream holds them (some read by the sender, not acknowledged).
    expect(Number(await redis.command("XLEN", ["pushgate:wh"]))).toBeGreaterThan(0);
    await sender.kill("SIGKILL");
    rcv.refusing = false;
    await until(() => uids.every((u) => rcv.of("connection.open", u).length === 1) || undefined, "every connection.open", 15_000);
    expect(await holder()).toBe(other);
    for (const u of uids) expect(rcv.of("user.online", u)).toHaveLength(1);
    // The killed node's uids go offline once; the survivor's stay.
    const gone = uids.filter((_, i) => i % 2);
    await until(() => gone.every((u) => rcv.of("user.offline", u).length === 1) || undefined, "the killed node's uids offline", 10_000);
    for (const u of uids.filter((_, i) => !(i % 2))) expect(rcv.of("user.offline", u)).toHaveLength(0);
    // Acknowledged and deleted once sent.
    await until(async () => Number(await redis.command("XLEN", ["pushgate:wh"])) === 0 || undefined, "an empty outbox", 5000);
  }, 40_000);

  test("Redis down: events wait in the node's memory and arrive once it is back; restarted empty, presence is written again (online again, never a false offline)", async () => {
    const n = nodes.find((x) => x.running)!;
    const keep = await login(n, "keep1");
    await until(() => rcv.of("user.online", "keep1").length === 1 || undefined, "keep1 online", 5000);
    await redis.kill();
    const during = await login(n, "ro1");
    await Bun.sleep(300);
    expect(rcv.of("connection.open", "ro1")).toHaveLength(0);
    await redis.restart();
    await until(() => rcv.of("connection.open", "ro1").length === 1 || undefined, "ro1's connection.open after Redis came back", 15_000);
    await until(() => rcv.of("user.online", "ro1").length === 1 && rcv.of("user.online", "keep1").length === 2 || undefined, "online written again", 10_000);
    await Bun.sleep(DEBOUNCE + 700);
    expect(rcv.of("user.offline", "keep1")).toHaveLength(0);
    expect(rcv.of("user.offline", "ro1")).toHaveLength(0);
    await closed(keep);
    await closed(during);
    await until(() => rcv.of("user.offline", "ro1").length === 1 && rcv.of("user.offline", "keep1").length === 1 || undefined, "both offline", 5000);
  }, 40_000);
});
