// clientId = 8 hex chars of node id + 12 hex chars of a per-process sequence (20 chars, like
// GatewayWorker's client_id). The node prefix lets a cluster route sendToClient to its owner.

const NODE_ID_LENGTH = 8;
const SEQ_LENGTH = 12;

export function newNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(NODE_ID_LENGTH / 2));
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export class ClientIdFactory {
  private seq = 0;
  constructor(readonly nodeId: string) {}

  next(): string {
    this.seq++;
    return this.nodeId + this.seq.toString(16).padStart(SEQ_LENGTH, "0");
  }
}

/** The node that owns a clientId, or null when it is not a well-formed clientId. */
export function nodeOfClientId(clientId: string): string | null {
  if (clientId.length !== NODE_ID_LENGTH + SEQ_LENGTH || !/^[0-9a-f]+$/.test(clientId)) return null;
  return clientId.slice(0, NODE_ID_LENGTH);
}
