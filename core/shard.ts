// Which shard a viewer's vote goes to (contract/table.ts: answers and tally counters are spread
// over `<pollId>#<shard>` partitions): FNV-1a of requestor_id, mixed, modulo the shard count. A
// pure function of requestor_id, so the same viewer always lands on the same shard: the
// conditional put on (shard partition, requestor_id) is still the one check that refuses a second
// vote.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** 32-bit FNV-1a of the string's UTF-8 bytes (stable across runtimes and releases). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer: FNV-1a alone leaves ids that differ in their last characters
 * (crowd-1, crowd-2, …) unevenly spread modulo a shard count like 60; mixed, they spread as random.
 */
function fmix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard (0 … shards − 1) of a viewer's answers to a poll with `shards` shards. */
export function shardOf(requestorId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shards: expected a whole number ≥ 1, got ${shards}`);
  }
  return fmix32(fnv1a32(requestorId)) % shards;
}
