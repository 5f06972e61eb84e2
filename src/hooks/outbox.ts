// Where webhook events wait to be sent: in memory on one node (memory-outbox.ts), in a Redis
// Stream on a cluster (redis/outbox.ts). An event is the JSON text of an object without its
// `id` ({"name":…,"time_ms":…,…}); the outbox gives it one.
export interface Outbox {
  /** Queues one event; past the bound it is dropped, counted and logged (never silently). */
  add(json: string): void;
  /** Sends (memory) or appends (Redis) what is queued, until `until` (performance.now() time). */
  stop(until: number): Promise<void>;
}
