// Which shard holds a stream: jump consistent hash (Lamping & Veach) of the stream name's
// 32-bit FNV-1a, as Centrifugo places channels on Redis shards with a jump hash. Adding a shard
// moves about 1/n of the streams; every node computes the same answer from the same --redis
// list (its order matters). The jump's random sequence is a 32-bit LCG (no BigInt on the push
// path: ~40 ns). One shard: always 0, nothing computed.

export function shardOf(stream: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  let key = h >>> 0;
  let b = -1;
  let j = 0;
  while (j < shards) {
    b = j;
    key = (Math.imul(key, 1664525) + 1013904223) >>> 0;
    j = Math.floor((b + 1) * (0x80000000 / ((key >>> 1) + 1)));
  }
  return b;
}
