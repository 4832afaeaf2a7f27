import { bytesToHex } from '@noble/hashes/utils.js';
import { HASH_SIZE, nodeHash } from './merkle-hash.js';

/**
 * Inclusion and consistency proof verification, RFC 9162 sections 2.1.3.2 and 2.1.4.2.
 * Sizes are bigints: proofs come from other logs and tools, whose sizes are 64-bit.
 */

/** A proof that does not prove what it claims; the message says what is wrong with it. */
export class ProofError extends Error {
  override readonly name = 'ProofError';
}

/** The root of the tree of `size` leaves, if `proof` is the inclusion proof of leaf `index`. */
export function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (index < 0n) throw new ProofError(`leaf index ${index} is negative`);
  if (index >= size) throw new ProofError(`leaf ${index} is not in a tree of ${size} leaves`);
  assertHash(leafHash, 'leaf hash');
  const sides = siblingSides(index, size - 1n);
  if (proof.length !== sides.length) {
    throw new ProofError(
      `inclusion proof for leaf ${index} in a tree of ${size} has ${hashCount(proof.length)}, expected ${sides.length}`,
    );
  }
  proof.forEach((hash, position) => assertHash(hash, `inclusion proof hash ${position}`));
  let root = leafHash;
  sides.forEach((side, position) => {
    const sibling = proof[position]!;
    root = side === 'left' ? nodeHash(sibling, root) : nodeHash(root, sibling);
  });
  return root;
}

/** Throws ProofError unless `proof` shows leaf `index` with `leafHash` is in the tree with `root`. */
export function verifyInclusion(
  index: bigint,
  size: bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  assertHash(root, 'root');
  if (!sameBytes(computed, root)) {
    throw new ProofError(
      `root mismatch: inclusion proof for leaf ${index} in a tree of ${size} gives root ${bytesToHex(computed)}, expected ${bytesToHex(root)}`,
    );
  }
}

/** Throws ProofError unless `proof` shows the tree (size1, root1) is a prefix of the tree (size2, root2). */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  if (size1 < 0n) throw new ProofError(`tree size ${size1} is negative`);
  if (size1 > size2) {
    throw new ProofError(`a tree of ${size1} leaves cannot be a prefix of one of ${size2}: logs only grow`);
  }
  // Every tree extends the empty one, so a proof from it proves nothing; RFC 9162 defines none.
  if (size1 === 0n) throw new ProofError('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length > 0) {
      throw new ProofError(`consistency proof between two trees of ${size1} leaves has ${hashCount(proof.length)}, expected none`);
    }
    // Nothing is hashed, so only equality matters (the known-answer vectors accept roots of any length here).
    if (!sameBytes(root1, root2)) {
      throw new ProofError(
        `root mismatch: two trees of ${size1} leaves have different roots ${bytesToHex(root1)} and ${bytesToHex(root2)}`,
      );
    }
    return;
  }
  assertHash(root1, 'first root');
  assertHash(root2, 'second root');

  // The proof starts from the largest subtree ending at leaf size1, at the level where size1 - 1
  // stops being a right child; above that it is the inclusion path of that subtree in tree 2.
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while (fn % 2n === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  const sides = siblingSides(fn, sn);
  // When size1 is a power of two, that subtree is the whole first tree and root1 is its hash.
  const seedInProof = !isPowerOfTwo(size1);
  const expected = sides.length + (seedInProof ? 1 : 0);
  if (proof.length !== expected) {
    throw new ProofError(
      `consistency proof from a tree of ${size1} to ${size2} leaves has ${hashCount(proof.length)}, expected ${expected}`,
    );
  }
  proof.forEach((hash, position) => assertHash(hash, `consistency proof hash ${position}`));
  const seed = seedInProof ? proof[0]! : root1;
  const path = seedInProof ? proof.slice(1) : proof;

  // Left siblings are in both trees; right siblings only in the second.
  let first = seed;
  let second = seed;
  sides.forEach((side, position) => {
    const sibling = path[position]!;
    if (side === 'left') {
      first = nodeHash(sibling, first);
      second = nodeHash(sibling, second);
    } else {
      second = nodeHash(second, sibling);
    }
  });
  if (!sameBytes(first, root1)) {
    throw new ProofError(
      `root mismatch: consistency proof from a tree of ${size1} to ${size2} leaves gives first root ${bytesToHex(first)}, expected ${bytesToHex(root1)}`,
    );
  }
  if (!sameBytes(second, root2)) {
    throw new ProofError(
      `root mismatch: consistency proof from a tree of ${size1} to ${size2} leaves gives second root ${bytesToHex(second)}, expected ${bytesToHex(root2)}`,
    );
  }
}

type Side = 'left' | 'right';

/**
 * On which side each proof hash joins the path from node `fn` up to the root, in a tree whose last
 * node at that level is `sn` (RFC 9162 2.1.3.2 step 4 without the hashing). Its length is the
 * number of hashes a correct proof has.
 */
function siblingSides(fn: bigint, sn: bigint): Side[] {
  const sides: Side[] = [];
  while (sn > 0n) {
    if (fn % 2n === 1n || fn === sn) {
      sides.push('left');
      // On the right edge a node without a right sibling is its parent's hash: climb past them.
      while (fn % 2n === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sides.push('right');
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sides;
}

function assertHash(hash: Uint8Array, what: string): void {
  if (hash.length !== HASH_SIZE) throw new ProofError(`${what} has ${hash.length} bytes, expected ${HASH_SIZE}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, position) => byte === b[position]);
}

function isPowerOfTwo(n: bigint): boolean {
  return (n & (n - 1n)) === 0n;
}

function hashCount(count: number): string {
  return count === 1 ? '1 hash' : `${count} hashes`;
}
