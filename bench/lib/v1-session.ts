// The pushgate.v1 steps the presence scenario's clients take one at a time on a connection: the
// auth → welcome login, keeping the welcome's clientId (the API control joins by it;
// client-pool.ts's loginClient drops it), and a subscribe answered by its reply. Each waits for
// its frame with a time limit and skips the others (another uid's presence frame can come first).
import { WsConn, type WsTarget } from "./ws-client.ts";

export type Frame = Record<string, unknown>;

/** The first text frame on `conn` that `pred` accepts, parsed; rejects after ms. Takes over conn.handler while it waits. */
export function waitFrame(conn: WsConn, ms: number, what: string, pred: (f: Frame) => boolean): Promise<Frame> {
  const { promise, resolve, reject } = Promise.withResolvers<Frame>();
  const timer = setTimeout(() => reject(new Error(`${what} timeout`)), ms);
  conn.handler = (_c, buf, start, end) => {
    let f: Frame;
    try {
      f = JSON.parse(buf.toString("utf8", start, end)) as Frame;
    } catch {
      return;
    }
    if (!pred(f)) return;
    clearTimeout(timer);
    resolve(f);
  };
  return promise;
}

export interface V1Login { conn: WsConn; clientId: string }

/** Connects, sends `{"type":"auth","uid"}` and waits for the welcome; closed again if the login fails. */
export async function loginV1(uid: string, t: Omit<WsTarget, "json">, ms: number): Promise<V1Login> {
  const conn = await WsConn.connect(uid, { ...t, json: true }, ms);
  try {
    const answer = waitFrame(conn, ms, "welcome", (f) => f.type === "welcome" || f.type === "error");
    conn.sendText(`{"type":"auth","uid":"${uid}"}`);
    const f = await answer;
    if (f.type !== "welcome" || typeof f.clientId !== "string") throw new Error(`unexpected login answer: ${JSON.stringify(f).slice(0, 80)}`);
    return { conn, clientId: f.clientId };
  } catch (e) {
    conn.close(100);
    throw e;
  }
}

/** Sends `{"type":"subscribe","id","group"}` and waits for its reply; throws with the error code on a refusal. */
export async function subscribeV1(conn: WsConn, id: number, group: string, ms: number): Promise<void> {
  const answer = waitFrame(conn, ms, "subscribe reply", (f) => f.type === "reply" && f.id === id);
  conn.sendText(`{"type":"subscribe","id":${id},"group":"${group}"}`);
  const f = await answer;
  const result = f.result as { group?: unknown } | undefined;
  if (result?.group !== group) throw new Error(`subscribe refused: ${JSON.stringify(f.error ?? f).slice(0, 80)}`);
}

/** A time on every process's shared clock (epoch ms, sub-ms): load processes compare each other's. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** The offset that turns a WsConn handler's nowNs (Bun.nanoseconds, this process's own origin) into epochMs. */
export function nsToEpochOffsetMs(): number {
  return epochMs() - Bun.nanoseconds() / 1e6;
}
