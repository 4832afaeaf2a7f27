import { EMPTY_TREE_ROOT, HASH_SIZE, nodeHash } from './merkle-hash.js';

/**
 * Which hashes an RFC 6962 proof consists of, named as leaf ranges so that a store can look them
 * up however it keeps the tree. Only foldSubtreeHashes hashes.
 *
 * Sizes and indexes come from a database and may pass 2^32, so the arithmetic stays on whole
 * doubles (exact up to 2^53) and never uses JavaScript's 32-bit bitwise operators.
 */

/** The Merkle tree hash of leaves [begin, end) (RFC 6962 MTH(D[begin:end])). */
export interface LeafRange {
  readonly begin: number;
  readonly end: number;
}

/** A perfect subtree: leaves [index * 2^level, (index + 1) * 2^level). */
export interface PerfectSubtree {
  readonly level: number;
  readonly index: number;
}

/** RFC 6962 PATH(index, D[0:size]): the sibling of every node from the leaf up to the root. */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertLeafCount(index, 'leaf index');
  assertLeafCount(size, 'tree size');
  if (index >= size) throw new RangeError(`leaf index ${index} is not in a tree of ${size} leaves`);
  // Walking down from the root leaves one sibling behind per level; the proof lists them leaf first.
  const path: LeafRange[] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const split = begin + largestPowerOfTwoBelow(end - begin);
    if (index < split) {
      path.push({ begin: split, end });
      end = split;
    } else {
      path.push({ begin, end: split });
      begin = split;
    }
  }
  return path.reverse();
}

/** RFC 6962 PROOF(size1, D[0:size2]): the hashes that show the tree of size1 is a prefix of size2's. */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  assertLeafCount(size1, 'first tree size');
  assertLeafCount(size2, 'second tree size');
  if (size1 > size2) throw new RangeError(`a tree of ${size1} leaves cannot be a prefix of one of ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  // RFC 6962 SUBPROOF, unrolled: [begin, end) is the current subtree; `whole` says whether it is
  // still the left edge, where the verifier knows the hash of [0, size1) already.
  const proof: LeafRange[] = [];
  let begin = 0;
  let end = size2;
  let whole = true;
  while (end !== size1) {
    const split = begin + largestPowerOfTwoBelow(end - begin);
    if (size1 <= split) {
      proof.push({ begin: split, end });
      end = split;
    } else {
      proof.push({ begin, end: split });
      begin = split;
      whole = false;
    }
  }
  if (!whole) proof.push({ begin, end });
  return proof.reverse();
}

/**
 * The perfect subtrees whose hashes, folded right to left with nodeHash, give the range's hash.
 * Left to right. Works for the ranges the two functions above produce and for [0, size).
 */
export function perfectSubtreesOf(range: LeafRange): PerfectSubtree[] {
  const { begin, end } = range;
  assertLeafCount(begin, 'range begin');
  assertLeafCount(end, 'range end');
  if (begin > end) throw new RangeError(`leaf range [${begin}, ${end}) ends before it begins`);
  // RFC 6962 splits n leaves at the largest power of two below n, so MTH(D[begin:end]) is the
  // fold of the perfect subtrees of the binary digits of end - begin, largest first.
  const subtrees: PerfectSubtree[] = [];
  let start = begin;
  for (let level = floorLog2(end - begin); start < end; level--) {
    const width = 2 ** level;
    if (end - start < width) continue;
    if (start % width !== 0) {
      throw new RangeError(
        `leaf range [${begin}, ${end}) is not a node of an RFC 6962 tree: its subtree of ${width} leaves would start at leaf ${start}, not a multiple of ${width}`,
      );
    }
    subtrees.push({ level, index: start / width });
    start += width;
  }
  return subtrees;
}

/** Folds the hashes of perfectSubtreesOf(range), in that order, into the range's hash. */
export function foldSubtreeHashes(hashes: readonly Uint8Array[]): Uint8Array {
  hashes.forEach((hash, position) => {
    if (hash.length !== HASH_SIZE) {
      throw new RangeError(`subtree hash ${position} has ${hash.length} bytes, expected ${HASH_SIZE}`);
    }
  });
  let folded = hashes[hashes.length - 1];
  if (folded === undefined) return EMPTY_TREE_ROOT;
  for (let position = hashes.length - 2; position >= 0; position--) folded = nodeHash(hashes[position]!, folded);
  return folded;
}

function assertLeafCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a whole number from 0 to 2^53 - 1, got ${value}`);
  }
}

/** The k of RFC 6962: the largest power of two strictly below n (n >= 2). */
function largestPowerOfTwoBelow(n: number): number {
  let power = 1;
  while (power * 2 < n) power *= 2;
  return power;
}

/** The largest level with 2^level <= n, or -1 for n = 0. */
function floorLog2(n: number): number {
  let level = -1;
  while (2 ** (level + 1) <= n) level++;
  return level;
}
