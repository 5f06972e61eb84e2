// pushgate.v1 login on a cluster member: positions and recovery come from Redis. The node first
// captures pushes it delivers for the login's streams, subscribes to their channels, then reads
// Redis; the final step (subscribe natively, welcome, replay, recovery) is synchronous, so live
// messages follow with no gap and no duplicate, as on a single node.
import type { Identity } from "../auth/types.ts";
import { clusterSource } from "../cluster/recovery-source.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import type { RecoverySource } from "../history/recover.ts";
import type { StreamPosition } from "../history/types.ts";
import type { Conn } from "../transport/conn-data.ts";
import { sendWelcome } from "./json-welcome.ts";
import { completeLogin } from "./login.ts";
import { clientIdOf } from "../core/client-table.ts";

export function clusterLogin(ws: Conn, id: Identity, recover: Map<string, StreamPosition> | null): void {
  const d = ws.data;
  const hub = d.hub;
  const cluster = hub.cluster!;
  const streams = [uidTopic(id.uid), TOPIC_ALL, ...(id.groups ?? []).map(groupTopic)];
  const capture = hub.captureStart(streams);
  d.authenticating = true;
  const done = () => {
    d.authenticating = false;
    hub.captureStop(capture);
    cluster.release(streams);
  };
  const finish = (source: RecoverySource) => {
    try {
      if (ws.readyState === 1 && completeLogin(ws, { ok: true, value: id })) sendWelcome(ws, recover, source);
    } finally {
      done();
    }
  };
  cluster.hold(streams)
    .then(() => cluster.read(streams, recover))
    .then(
      (histories) => finish(clusterSource(histories, capture)),
      // Redis unreachable: this node's own history (another epoch: recovery reports it).
      () => finish(hub.history),
    )
    .catch((e) => hub.log.error("cluster_login_error", { clientId: clientIdOf(d), error: String(e) }));
}
