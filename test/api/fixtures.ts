// Small helpers shared by the HTTP API tests.
import { expect } from "bun:test";
import { type TestClient, api } from "../helpers.ts";

export type Pg = { url: string };

/** The expected answer of a successful call. */
export const ok = (result: unknown) => ({ status: 200, body: { result } });

/** A well-formed clientId that no server issued. */
export const UNKNOWN_ID = "ffffffff0000000fffff";

/** The only clientId of a uid (tests give each connection its own uid when they need its id). */
export async function idOf(pg: Pg, uid: string): Promise<string> {
  const r = await api(pg, "getClientIdByUid", { uid });
  expect(r.status).toBe(200);
  expect(r.body.result).toHaveLength(1);
  return r.body.result[0];
}

/** Asserts that none of these clients receives anything within the quiet window (in parallel). */
export async function expectQuiet(...clients: TestClient[]): Promise<void> {
  expect(await Promise.all(clients.map((c) => c.nothingWithin()))).toEqual(clients.map(() => true));
}
