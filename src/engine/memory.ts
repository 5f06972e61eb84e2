// The memory engine: one process, the embedded default. A push is placed in this process's
// history and delivered at once, synchronously (no promise, no allocation beyond the position),
// so one node costs what a bare topic server costs. There are no other nodes: a call "to" a
// node is answered here (the only node that holds anything), a scatter reaches nobody.
import { type Result, err } from "../core/result.ts";
import type { HistoryStore, Payload } from "../history/types.ts";
import { noHandlers } from "./no-handlers.ts";
import type { Engine, EngineHandlers, LoginView } from "./types.ts";

const NOBODY: readonly Result<unknown>[] = Object.freeze([]);
const NO_HANDLERS = noHandlers(err("E_INTERNAL", "the node is not started"));

export class MemoryEngine implements Engine {
  readonly kind = "memory";
  readonly distributed = false;
  readonly connected = true;
  private h = NO_HANDLERS;
  private readonly view: LoginView;

  constructor(private readonly history: HistoryStore) {
    this.view = { source: history, release: () => {} };
  }

  register(handlers: EngineHandlers): void {
    this.h = handlers;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  watch(_stream: string): void {}
  unwatch(_stream: string): void {}

  publish(stream: string, payload: Payload, excludeIds: readonly string[] | null): number {
    // Kept in history only when a pushgate.v1 reader (who sees positions) may want it back.
    const at = this.history.append(stream, payload, this.h.observed(stream));
    return this.h.deliver(stream, payload, at, excludeIds);
  }

  hold(_streams: readonly string[]): null {
    return null;
  }

  release(_streams: readonly string[]): void {}

  admitUid(): null {
    return null;
  }

  admitted(): void {}

  login(): LoginView {
    return this.view;
  }

  call(_node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    return this.h.call(method, params);
  }

  scatter(): readonly Result<unknown>[] {
    return NOBODY;
  }

  /** One node: its edges are the transitions. */
  memberEdge(group: string, uid: string, joined: boolean): void {
    this.h.presence(group, uid, joined, false);
  }

  groupUidCount(): null {
    return null;
  }
}
