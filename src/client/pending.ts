// send() and rpc() promises waiting for their `reply`. Every entry gets the same timeout, so deadlines
// grow in insertion order: one timer, armed for the oldest entry, serves them all.

import { ClientErrorCode, PushgateError } from "./errors.ts";
interface Entry {
  /** Resolves the caller's promise with what it makes of the reply frame. */
  resolve: (reply: Record<string, unknown>) => void;
  reject: (e: PushgateError) => void;
  deadline: number;
}

export class PendingSends {
  private readonly entries = new Map<number, Entry>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextId = 1;

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Registers a call; `answer` turns its reply frame into the value the promise resolves with. */
  add<T>(answer: (reply: Record<string, unknown>) => T): { id: number; promise: Promise<T> } {
    const id = this.nextId++;
    let entry!: Entry;
    const promise = new Promise<T>((resolve, reject) => {
      entry = { resolve: (reply) => resolve(answer(reply)), reject, deadline: Date.now() + this.timeoutMs };
    });
    this.entries.set(id, entry);
    if (this.timer === null) this.arm(this.timeoutMs);
    return { id, promise };
  }

  /** Settles the call with this id from a reply (or an error frame); false if unknown. */
  settle(id: unknown, reply: Record<string, unknown>, error: { code: string; message: string; detail?: unknown } | undefined): boolean {
    if (typeof id !== "number") return false;
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    if (this.entries.size === 0) this.disarm();
    if (error) entry.reject(new PushgateError(String(error.code), String(error.message ?? ""), error.detail));
    else entry.resolve(reply);
    return true;
  }

  /** Rejects one entry (e.g. the socket refused the frame). */
  fail(id: number, code: string, message: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    if (this.entries.size === 0) this.disarm();
    entry.reject(new PushgateError(code, message));
  }

  /** Rejects every entry, e.g. with E_DISCONNECTED when the socket drops. */
  rejectAll(code: string, message: string): void {
    this.disarm();
    if (this.entries.size === 0) return;
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) e.reject(new PushgateError(code, message));
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, ms));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    for (const [id, e] of this.entries) {
      if (e.deadline > now) {
        this.arm(e.deadline - now);
        return;
      }
      this.entries.delete(id);
      e.reject(new PushgateError(ClientErrorCode.TIMEOUT, `no reply within ${this.timeoutMs} ms`));
    }
  }
}
