import { ledgerPrimitives } from './primitives.js';

/** Every RFC 6962 hash is a SHA-256 digest. */
export const HASH_SIZE = 32;

// Domain separation (RFC 6962 section 2.1): no leaf hash can pass for an interior node's hash.
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = 0x01;

// A node's input (prefix, left, right) is laid out here, in one buffer kept for it, and hashed as
// one chunk: a verifier hashes about one node per entry, and gathering the chunks into a new
// input per hash is a good part of the cost.
const nodeInput = Uint8Array.of(NODE_PREFIX, ...new Uint8Array(2 * HASH_SIZE));

/** The hash of one log entry: SHA-256(0x00 || entry bytes). */
export function leafHash(entryBytes: Uint8Array): Uint8Array {
  return ledgerPrimitives().sha256(LEAF_PREFIX, entryBytes);
}

/** The leaf hashes of many entries, possibly computed off this thread (see LedgerPrimitives). */
export function leafHashes(entries: readonly Uint8Array[]): Promise<Uint8Array[]> {
  return ledgerPrimitives().sha256Each(LEAF_PREFIX, entries);
}

/** The hash of an interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  // Children are always hashes; anything else here is a caller passing entry bytes or a corrupt hash.
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(
      `a Merkle node's children must be ${HASH_SIZE}-byte hashes, got ${left.length} and ${right.length} bytes`,
    );
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return ledgerPrimitives().sha256(nodeInput);
}

/** The root of the tree with no leaves: SHA-256 of the empty string (RFC 6962 section 2.1). */
export const EMPTY_TREE_ROOT: Uint8Array = ledgerPrimitives().sha256();
