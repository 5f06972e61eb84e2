// Periodic history sweep: expired messages go, and idle streams nobody is subscribed to.
import type { Hub } from "../core/hub.ts";
import { JSON_TOPIC_PREFIX } from "../core/topics.ts";

export function startHistorySweeper(hub: Hub): Timer {
  const every = Math.min(10_000, Math.max(250, Math.floor(hub.config.historyTtlMs / 4)));
  const keep = (stream: string) => {
    const s = hub.server;
    return s !== null && (s.subscriberCount(stream) > 0 || s.subscriberCount(JSON_TOPIC_PREFIX + stream) > 0);
  };
  const timer = setInterval(() => hub.history.sweep(keep), every);
  timer.unref();
  return timer;
}
