// clientId = 8 hex chars of node id + 12 hex chars of a per-node number (20 chars, like
// GatewayWorker's client_id). The node prefix lets a cluster route sendToClient to its owner.
// The number is the connection's slot in the ClientTable (low 24 bits) and that slot's use count
// (high 24 bits), so a clientId is unique on its node until one slot has been reused 16 million
// times, and the string is only built when asked for (a JS Map + string per connection would
// cost ~230 B of the ~2.5 KB a connection may use; see docs/performance.md).
import { randomHex } from "./hex.ts";

const NODE_ID_LENGTH = 8;
const NUM_LENGTH = 12;
export const SLOT_BITS = 24;
const SLOTS = 2 ** SLOT_BITS;
const HEX = /^[0-9a-f]+$/;

/** A node id is 8 lowercase hex characters: clientIds and cluster routing depend on that shape. */
export function isNodeId(s: string): boolean {
  return s.length === NODE_ID_LENGTH && HEX.test(s);
}

export function newNodeId(): string {
  return randomHex(NODE_ID_LENGTH / 2);
}

/** The clientId of connection number `cid` (slot + use count) on node `nodeId`. */
export function formatClientId(nodeId: string, cid: number): string {
  return nodeId + cid.toString(16).padStart(NUM_LENGTH, "0");
}

/** The node that owns a clientId, or null when it is not a well-formed clientId. */
export function nodeOfClientId(clientId: string): string | null {
  if (clientId.length !== NODE_ID_LENGTH + NUM_LENGTH || !HEX.test(clientId)) return null;
  return clientId.slice(0, NODE_ID_LENGTH);
}

/** The connection number in a clientId of `nodeId`, or -1 when it is not one of that node's. */
export function cidOf(nodeId: string, clientId: string): number {
  if (!clientId.startsWith(nodeId) || nodeOfClientId(clientId) === null) return -1;
  return Number.parseInt(clientId.slice(NODE_ID_LENGTH), 16);
}

/** Slot and use count of a connection number. */
export function slotOf(cid: number): number {
  return cid % SLOTS;
}

export function cidFor(slot: number, use: number): number {
  return (use % SLOTS) * SLOTS + slot;
}
