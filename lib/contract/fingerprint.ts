/**
 * A fast 64-bit fingerprint of a publication's bytes, naming it for the two minutes instances
 * need to agree on it (`brokers/redis.ts`). Not cryptographic: producers are trusted, and two
 * different publications of one region sharing a fingerprint within two minutes is a 1 in 2^64
 * event per pair. `node:crypto` hashes go through a stream Transform per hash in Deno, which
 * costs far more than this loop over the bytes.
 *
 * @module
 */

/** The 32-bit finaliser of MurmurHash3: spreads every input bit over the output. */
function mix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** 16 hex digits: two 32-bit FNV-1a lanes with different primes and seeds, finalised. */
export function fingerprint(bytes: Uint8Array): string {
  let first = 0x811c9dc5;
  let second = 0x27d4eb2f ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    first = Math.imul(first ^ byte, 0x01000193);
    second = Math.imul(second ^ byte, 0x5bd1e995);
  }
  return mix(first).toString(16).padStart(8, "0") +
    mix(second ^ first).toString(16).padStart(8, "0");
}
