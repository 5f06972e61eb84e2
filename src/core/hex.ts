// Random identifiers as lowercase hex (node ids, epochs).

/** `bytes` random bytes as 2 × bytes hex characters. */
export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}
