// ClientTable: clientIds from slots and use counts, lookups, and reuse of a slot never reviving a
// stale clientId. Connections here are plain objects carrying only what the table reads.
import { describe, expect, test } from "bun:test";
import { cidOf, formatClientId, nodeOfClientId } from "../../src/core/client-id.ts";
import { ClientTable } from "../../src/core/client-table.ts";
import type { Conn } from "../../src/core/conn-data.ts";

const NODE = "0a1b2c3d";
const conn = () => ({ data: { cid: 0 } }) as unknown as Conn;
const idOf = (ws: Conn) => formatClientId(NODE, ws.data.cid);

describe("ClientTable", () => {
  test("ids are 20 hex chars naming the node; each connection is found by its own id", () => {
    const t = new ClientTable(NODE);
    const [a, b] = [conn(), conn()];
    t.add(a);
    t.add(b);
    expect(idOf(a)).toMatch(/^0a1b2c3d[0-9a-f]{12}$/);
    expect(nodeOfClientId(idOf(a))).toBe(NODE);
    expect(idOf(a)).not.toBe(idOf(b));
    expect(t.get(idOf(a))).toBe(a);
    expect(t.get(idOf(b))).toBe(b);
    expect(t.size).toBe(2);
    expect(t.values()).toEqual([a, b]);
  });

  test("a reused slot gets a new id; the old id finds nothing", () => {
    const t = new ClientTable(NODE);
    const a = conn();
    t.add(a);
    const oldId = idOf(a);
    t.delete(a);
    expect(t.get(oldId)).toBeUndefined();
    const b = conn();
    t.add(b);
    expect(idOf(b)).not.toBe(oldId);
    expect(t.get(oldId)).toBeUndefined();
    expect(t.get(idOf(b))).toBe(b);
    expect(t.size).toBe(1);
  });

  test("ids stay unique over many connect/close cycles on few slots", () => {
    const t = new ClientTable(NODE);
    const seen = new Set<string>();
    const open: Conn[] = [];
    for (let i = 0; i < 5000; i++) {
      const ws = conn();
      t.add(ws);
      seen.add(idOf(ws));
      open.push(ws);
      if (open.length > 3) t.delete(open.shift()!);
    }
    expect(seen.size).toBe(5000);
    expect(t.size).toBe(3);
  });

  test("foreign, malformed and never-issued ids find nothing; deleting twice is harmless", () => {
    const t = new ClientTable(NODE);
    const a = conn();
    t.add(a);
    expect(t.get(formatClientId("ffffffff", a.data.cid))).toBeUndefined();
    expect(t.get("not-a-client-id")).toBeUndefined();
    expect(t.get(idOf(a).toUpperCase())).toBeUndefined();
    expect(t.get(formatClientId(NODE, a.data.cid + 2 ** 24))).toBeUndefined();
    expect(cidOf(NODE, "zz")).toBe(-1);
    t.delete(a);
    t.delete(a);
    t.delete(conn());
    expect(t.size).toBe(0);
    expect(t.has(idOf(a))).toBe(false);
  });
});

describe("node ids", () => {
  test("startPushgate refuses a nodeId that is not 8 lowercase hex characters (clientIds could not be found again)", async () => {
    const { startPushgate } = await import("../../src/server.ts");
    for (const bad of ["node-a", "0A1B2C3D", "abc", "0a1b2c3d0"]) {
      expect(() => startPushgate({ port: 0, host: "127.0.0.1" }, { nodeId: bad })).toThrow("nodeId must be 8 lowercase hex characters");
    }
    await using pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "error" }, { nodeId: "0a1b2c3d" });
    expect(pg.hub.nodeId).toBe("0a1b2c3d");
  });
});
