// welcome, replay and recovery, sent in one synchronous step right after the subscriptions are
// made: no publish can come in between, so live messages follow the replay with no gap and no
// duplicate.
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import { pushEnvelope } from "../core/v1-envelope.ts";
import type { RecoverySource } from "../history/recover.ts";
import type { StreamPosition } from "../history/types.ts";

/** The streams a logged-in connection is subscribed to. */
function streamsOf(ws: Conn): string[] {
  const d = ws.data;
  const streams: string[] = [];
  if (d.uid !== null) streams.push(uidTopic(d.uid));
  streams.push(TOPIC_ALL);
  if (d.groups) for (const g of d.groups) streams.push(groupTopic(g));
  return streams;
}

export function sendWelcome(ws: Conn, recover: Map<string, StreamPosition> | null, source: RecoverySource): void {
  const d = ws.data;
  const streams = streamsOf(ws);
  const positions = streams.map((stream) => ({ stream, ...source.position(stream) }));
  const exp = d.expiresAt > 0 ? Math.floor(d.expiresAt / 1000) : undefined;
  ws.send(JSON.stringify({ type: "welcome", clientId: clientIdOf(d), uid: d.uid, streams: positions, exp }));
  if (recover !== null) sendRecovery(ws, streams, recover, source);
}

/**
 * Replays what `recover` asks of `streams` and sends the `recovery` frame (a login, or a
 * `subscribe` with `recover`): synchronous, right after the subscriptions are made.
 */
export function sendRecovery(ws: Conn, streams: readonly string[], recover: Map<string, StreamPosition>, source: RecoverySource): void {
  const hub = ws.data.hub;
  const results = [];
  let complete = true;
  // One login replays at most --max-recover-messages in all (this step is synchronous): a stream
  // that would pass it replays nothing and is reported not recovered, reason "limit".
  let budget = hub.config.maxRecoverMessages;
  for (const stream of streams) {
    const from = recover.get(stream);
    if (!from) continue;
    const outcome = source.since(stream, from);
    const over = outcome.entries.length > budget;
    const entries = over ? [] : outcome.entries;
    budget -= entries.length;
    for (const e of entries) ws.send(pushEnvelope(stream, outcome.position.epoch, e.offset, e.ts, e));
    hub.metrics.replayed.inc(entries.length);
    const reason = over ? "limit" : outcome.recovered ? null : outcome.reason;
    hub.metrics.recoveries.incL([reason ?? "recovered"]);
    if (over) hub.metrics.limitsExceeded.incL(["max_recover_messages"]);
    if (reason !== null) complete = false;
    results.push({
      stream, recovered: reason === null, replayed: entries.length,
      epoch: outcome.position.epoch, offset: outcome.position.offset,
      ...(reason === null ? {} : { reason }),
    });
  }
  ws.send(JSON.stringify({ type: "recovery", complete, streams: results }));
}
