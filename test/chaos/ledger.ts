// Chaos bookkeeping: every push the API was asked for (numbered per stream, with what the API
// answered) and every push each SDK client got, and the audit that compares them: nothing that
// had to arrive is missing, nothing arrives twice or out of order, nothing arrives that was refused.
import { PushgateClient } from "../../src/client/index.ts";
import type { GapInfo, PushgateClientOptions, RecoveryFrame } from "../../src/client/index.ts";

/** accepted: 200 without result.error; reported: 200 with one; refused: any other status; unknown: no answer. */
export type Outcome = "accepted" | "reported" | "refused" | "unknown";

export interface Sent {
  stream: string;
  n: number;
  outcome: Outcome;
  /** The API result (when 200). */
  result?: { reached?: number; offline?: string[]; error?: { code: string } };
  status: number;
}

/** The API call that pushes to `stream` ("uid:<u>", "group:<g>" or "all"). */
export function pushCall(stream: string, data: string): [string, Record<string, unknown>] {
  if (stream === "all") return ["sendToAll", { data }];
  if (stream.startsWith("uid:")) return ["sendToUid", { uid: stream.slice(4), data }];
  return ["sendToGroup", { group: stream.slice(6), data }];
}

export class Ledger {
  readonly sent = new Map<string, Sent[]>();

  /** POSTs the next numbered push of `stream` to `baseUrl` and records the answer (bounded). */
  async push(baseUrl: string, stream: string, ms = 3000): Promise<Sent> {
    const list = this.sent.get(stream) ?? [];
    this.sent.set(stream, list);
    const n = list.length + 1;
    const [method, params] = pushCall(stream, `${stream}#${n}`);
    const entry: Sent = { stream, n, outcome: "unknown", status: -1 };
    list.push(entry);
    try {
      const res = await fetch(`${baseUrl}/api/${method}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params),
        signal: AbortSignal.timeout(ms),
      });
      entry.status = res.status;
      const body = (await res.json()) as { result?: Sent["result"] };
      if (res.status !== 200) entry.outcome = "refused";
      else {
        entry.result = body.result;
        entry.outcome = body.result?.error ? "reported" : "accepted";
      }
    } catch {
      entry.outcome = "unknown"; // e.g. the worker holding the connection was killed
    }
    return entry;
  }

  tally(): Record<Outcome, number> {
    const t: Record<Outcome, number> = { accepted: 0, reported: 0, refused: 0, unknown: 0 };
    for (const list of this.sent.values()) for (const s of list) t[s.outcome]++;
    return t;
  }
}

/** A reconnecting SDK client that records what it gets, per stream, in arrival order. */
export class Receiver {
  readonly client: PushgateClient;
  readonly got = new Map<string, number[]>();
  readonly gaps: GapInfo[] = [];
  readonly recoveries: RecoveryFrame[] = [];
  /** The node (first 8 hex of the clientId) of every welcome. */
  readonly nodes: string[] = [];
  /** Epochs seen per stream, in order (a change is the client's signal of a break). */
  readonly epochs = new Map<string, string[]>();
  /** Pushes whose data names another stream than the frame's (never expected). */
  readonly strays: string[] = [];
  disconnects = 0;

  constructor(readonly name: string, readonly streams: readonly string[], options: PushgateClientOptions) {
    this.client = new PushgateClient(options);
    this.client.on("message", (data, meta) => {
      const [stream = "", n] = String(data).split("#");
      if (stream !== meta.stream) return void this.strays.push(`${String(data)} on ${meta.stream}`);
      const list = this.got.get(stream) ?? [];
      this.got.set(stream, list);
      list.push(Number(n));
      const epochs = this.epochs.get(stream) ?? [];
      this.epochs.set(stream, epochs);
      if (meta.epoch !== undefined && epochs.at(-1) !== meta.epoch) epochs.push(meta.epoch);
    });
    this.client.on("gap", (g) => this.gaps.push(g));
    this.client.on("recovered", (r) => this.recoveries.push(r));
    this.client.on("connected", (w) => this.nodes.push(w.clientId.slice(0, 8)));
    this.client.on("disconnected", () => this.disconnects++);
    this.client.on("error", () => {}); // (reported through the events above; not fatal here)
  }

  get node(): string {
    return this.nodes.at(-1) ?? "";
  }

  close(): void {
    this.client.close();
  }
}

export interface Audit {
  /** Pushes that had to arrive and did not (and no gap was reported on their stream). */
  missing: string[];
  /** A number seen twice, or after a later one: duplicate or disorder. */
  disorder: string[];
  /** Refused pushes that arrived anyway, or numbers never sent. */
  phantom: string[];
  /** Pushes that did not have to arrive and did not (reported to the caller, or unknown). */
  lostReported: number;
}

/** Compares what `receivers` got with `ledger`; `mustArrive` says which sends had to arrive. */
export function audit(ledger: Ledger, receivers: readonly Receiver[], mustArrive: (s: Sent) => boolean): Audit {
  const out: Audit = { missing: [], disorder: [], phantom: [...receivers.flatMap((r) => r.strays.map((s) => `${r.name}: ${s}`))], lostReported: 0 };
  for (const r of receivers) {
    for (const stream of r.streams) {
      const got = r.got.get(stream) ?? [];
      const sent = ledger.sent.get(stream) ?? [];
      for (let i = 1; i < got.length; i++) {
        if (got[i]! <= got[i - 1]!) out.disorder.push(`${r.name} ${stream}: #${got[i]} after #${got[i - 1]}`);
      }
      const seen = new Set(got);
      const gapped = r.gaps.some((g) => g.stream === stream);
      for (const s of sent) {
        const arrived = seen.has(s.n);
        if (arrived && s.outcome === "refused") out.phantom.push(`${r.name} ${stream}#${s.n} (refused ${s.status})`);
        if (arrived) continue;
        if (mustArrive(s) && !gapped) out.missing.push(`${r.name} ${stream}#${s.n} (${s.outcome} ${JSON.stringify(s.result ?? null)})`);
        else out.lostReported++;
      }
      for (const n of seen) if (!sent[n - 1]) out.phantom.push(`${r.name} ${stream}#${n} (never sent)`);
    }
  }
  return out;
}

/** True when every receiver has every push of its streams that must arrive (for until()). */
export function complete(ledger: Ledger, receivers: readonly Receiver[], mustArrive: (s: Sent) => boolean): boolean {
  return audit(ledger, receivers, mustArrive).missing.length === 0;
}
