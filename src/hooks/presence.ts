// user.online / user.offline: a uid's first connection (anywhere) and its last one gone for
// --webhook-debounce (a page reload is neither). One node: local-presence.ts; a cluster:
// redis/presence.ts, cluster-wide and healed when a node dies. Each transition is told once.
export interface PresenceListener {
  online(uid: string): void;
  offline(uid: string): void;
}

export interface Presence {
  /** This node's connections of `uid` went from 0 to 1 (`n` = 1) or to 0. */
  uidConnections(uid: string, n: number): void;
  /** A graceful stop: pending offline transitions are due now. */
  stop(): Promise<void>;
}

/** Listeners told of every transition, in order; none may throw. */
export function fanOut(listeners: readonly PresenceListener[]): PresenceListener {
  if (listeners.length === 1) return listeners[0]!;
  return {
    online: (uid) => { for (const l of listeners) l.online(uid); },
    offline: (uid) => { for (const l of listeners) l.offline(uid); },
  };
}
