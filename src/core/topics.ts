// Streams and native Bun topics. A stream ("uid:<uid>", "group:<name>", "all") is what a push
// targets and what history records. Each wire format has its own topic family for the same
// stream, so one push is one native publish per format: seed sockets subscribe to the stream
// name itself, pushgate.v1 (JSON) sockets to "j:" + stream.

export const TOPIC_ALL = "all";
export const V1_TOPIC_PREFIX = "j:";

export function uidTopic(uid: string): string {
  return "uid:" + uid;
}

export function groupTopic(group: string): string {
  return "group:" + group;
}

/** The native topic a socket of this wire format subscribes to for `stream`. */
export function wireTopic(v1: boolean, stream: string): string {
  return v1 ? V1_TOPIC_PREFIX + stream : stream;
}
