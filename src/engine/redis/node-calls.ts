// Node-to-node API calls over the first shard: a call to one node (the owner of a clientId) and
// a scatter to every live node, each bounded by --cluster-timeout; the calls other nodes make
// to this one, run by the node's handler and answered on the caller's channel.
import { isUnknownOutcome, markUnknown } from "../../core/outcome.ts";
import { type Err, type Result, err, ok } from "../../core/result.ts";
import type { NodeMessage } from "./bus.ts";
import { nodeChannel } from "./keys.ts";
import { Pending } from "./pending.ts";
import type { Shard } from "./shard.ts";

export interface NodeCallsOptions {
  nodeId: string;
  timeoutMs: number;
  /** Larger answers are refused, not published (Redis would cut the caller's subscriber). */
  maxReplyBytes: number;
  /** The first shard: node channels and presence. */
  home: Shard;
  liveNodes(): Promise<string[]>;
  unavailable(): Err;
  /** Runs a call from another node here. */
  run(method: string, params: Record<string, unknown>): Promise<Result<unknown>>;
}

export class NodeCalls {
  private readonly calls = new Pending<Result<unknown>>();

  constructor(private readonly o: NodeCallsOptions) {}

  /** `waitMs`: what is left of the caller's --cluster-timeout (a scatter spent some on the node list). */
  async call(node: string, method: string, params: Record<string, unknown>, waitMs = this.o.timeoutMs): Promise<Result<unknown>> {
    const { home, timeoutMs } = this.o;
    if (!home.connected) return this.o.unavailable();
    const { id, promise } = this.calls.open(waitMs, () => err("E_CLUSTER_TIMEOUT", `node ${node} did not answer within ${timeoutMs} ms (--cluster-timeout): the call may still run there`));
    const msg: NodeMessage = { k: "rpc", id, from: this.o.nodeId, method, params };
    // Not awaited: the call's own timer bounds it even when Redis does not answer the PUBLISH
    // (then Redis may still deliver it later, so that timer's E_CLUSTER_TIMEOUT is the answer).
    // Written (connected at this moment): a failure after it leaves the call's own timer to
    // answer E_CLUSTER_TIMEOUT, since the call may have run; only a call never sent is "unavailable".
    const sent = home.cmd.connected;
    home.bounded(home.cmd.send("PUBLISH", [nodeChannel(node), JSON.stringify(msg)])).then(
      (receivers) => { if (receivers === 0) this.calls.settle(id, err("E_NO_SUCH_CLIENT", `node ${node} is not in the cluster`)); },
      () => { if (!sent) this.calls.settle(id, this.o.unavailable()); },
    );
    return promise;
  }

  async scatter(method: string, params: Record<string, unknown>): Promise<Result<unknown>[]> {
    if (!this.o.home.connected) return [this.o.unavailable()];
    // One --cluster-timeout for the whole scatter: the node list and the calls share it.
    const started = performance.now();
    let nodes: string[];
    try {
      nodes = (await this.o.liveNodes()).filter((n) => n !== this.o.nodeId);
    } catch {
      return [this.o.unavailable()];
    }
    const left = Math.max(1, this.o.timeoutMs - (performance.now() - started));
    const answers = await Promise.all(nodes.map((n) => this.call(n, method, params, left)));
    // A node that left (no subscriber on its channel) is missing from the merge. One that does
    // not answer holds an unknown part: E_CLUSTER_TIMEOUT, never a merge that says "not there".
    return answers.filter((a) => a.ok || a.code !== "E_NO_SUCH_CLIENT");
  }

  /** A request or a reply that came on this node's channel. */
  received(m: NodeMessage): void {
    if (m.k === "ret") {
      if (m.ok) this.calls.settle(m.id, ok(m.value));
      else {
        const e = err(m.code as Err["code"], String(m.message));
        this.calls.settle(m.id, m.u === 1 ? markUnknown(e) : e);
      }
      return;
    }
    if (m.k !== "rpc" || typeof m.method !== "string" || typeof m.from !== "string" || m.params === null || typeof m.params !== "object") return;
    void this.o.run(m.method, m.params).then((r) => {
      const reply: NodeMessage = r.ok ? { k: "ret", id: m.id, ok: true, value: r.value }
        : isUnknownOutcome(r) ? { k: "ret", id: m.id, ok: false, code: r.code, message: r.message, u: 1 }
        : { k: "ret", id: m.id, ok: false, code: r.code, message: r.message };
      let text = JSON.stringify(reply);
      const bytes = Buffer.byteLength(text);
      if (bytes > this.o.maxReplyBytes) {
        // Only read-only answers grow with the population (lists, maps); a change's answer is small.
        const refused: NodeMessage = {
          k: "ret", id: m.id, ok: false, code: "E_LIST_TOO_LARGE",
          message: `${m.method}: node ${this.o.nodeId}'s part is ${bytes} bytes, over --cluster-max-reply (${this.o.maxReplyBytes}); ask for counts or a smaller group`,
        };
        text = JSON.stringify(refused);
      }
      return this.o.home.cmd.send("PUBLISH", [nodeChannel(m.from), text]);
    }).catch(() => {});
  }

  /** Answers every waiting call now (stop). */
  flush(): void {
    this.calls.flush(() => this.o.unavailable());
  }
}
