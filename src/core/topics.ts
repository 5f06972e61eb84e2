// Native Bun topic names. Routing is always one server.publish to one of these; adding a wire
// format later (issue: JSON protocol) adds a topic family, never a user-land loop.

export const TOPIC_ALL = "all";

export function uidTopic(uid: string): string {
  return "uid:" + uid;
}

export function groupTopic(group: string): string {
  return "group:" + group;
}
