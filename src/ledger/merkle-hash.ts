import { ledgerPrimitives } from './primitives.js';

/** Every RFC 6962 hash is a SHA-256 digest. */
export const HASH_SIZE = 32;

// Domain separation (RFC 6962 section 2.1): no leaf hash can pass for an interior node's hash.
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

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
  return ledgerPrimitives().sha256(NODE_PREFIX, left, right);
}

/** The root of the tree with no leaves: SHA-256 of the empty string (RFC 6962 section 2.1). */
export const EMPTY_TREE_ROOT: Uint8Array = ledgerPrimitives().sha256();
