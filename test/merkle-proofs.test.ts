import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, test } from 'vitest';
import { z } from 'zod';
import {
  consistencyProofRanges,
  foldSubtreeHashes,
  inclusionProofRanges,
  perfectSubtreesOf,
  type LeafRange,
  type PerfectSubtree,
} from '../src/ledger/leaf-ranges.js';
import { EMPTY_TREE_ROOT, HASH_SIZE, leafHash, leafHashes, nodeHash } from '../src/ledger/merkle-hash.js';
import {
  ProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../src/ledger/proof-verification.js';
import { describeWithEachPrimitives } from './support/ledger-primitives.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const withFlippedByte = (hash: Uint8Array): Uint8Array => hash.map((byte, i) => (i === 0 ? byte ^ 0x10 : byte));
const isPowerOfTwo = (n: number): boolean => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

// ---------------------------------------------------------------------------------------------
// Known-answer vectors from transparency-dev/merkle (see test/vectors/rfc6962/README.md)

const VECTORS = fileURLToPath(new URL('./vectors/rfc6962/', import.meta.url));

const base64Hash = z.base64().transform((text) => new Uint8Array(Buffer.from(text, 'base64')));
const uint64 = z.string().regex(/^\d+$/).transform(BigInt);
const proofHashes = z
  .array(base64Hash)
  .nullable()
  .transform((proof) => proof ?? []);

const InclusionVectorSchema = z.object({
  leafIdx: uint64,
  treeSize: uint64,
  root: base64Hash,
  leafHash: base64Hash,
  proof: proofHashes,
  desc: z.string(),
  wantErr: z.boolean(),
});

const ConsistencyVectorSchema = z.object({
  size1: uint64,
  size2: uint64,
  root1: base64Hash,
  root2: base64Hash,
  proof: proofHashes,
  desc: z.string(),
  wantErr: z.boolean(),
});

/** The vectors' sizes go up to 2^64 - 1, past what JSON.parse keeps exactly: read them as strings. */
function readVectors<T>(kind: string, schema: z.ZodType<T>): { file: string; vector: T }[] {
  const directory = join(VECTORS, kind);
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(directory, file), 'utf8');
      const quoted = text.replace(/("(?:leafIdx|treeSize|size1|size2)"\s*:\s*)(\d+)/g, '$1"$2"');
      return { file: `${kind}/${file}`, vector: schema.parse(JSON.parse(quoted)) };
    });
}

const inclusionVectors = readVectors('inclusion', InclusionVectorSchema).map(({ file, vector }) => ({ file, desc: vector.desc, vector }));
const consistencyVectors = readVectors('consistency', ConsistencyVectorSchema).map(({ file, vector }) => ({ file, desc: vector.desc, vector }));

describeWithEachPrimitives(() => {
  describe('RFC 6962 proof vectors', () => {
    it('finds accepting and rejecting vectors of both kinds', () => {
      for (const vectors of [inclusionVectors, consistencyVectors]) {
        expect(vectors.filter(({ vector }) => vector.wantErr).length).toBeGreaterThan(0);
        expect(vectors.filter(({ vector }) => !vector.wantErr).length).toBeGreaterThan(0);
      }
    });

    test.each(inclusionVectors)('$file: $desc', ({ vector }) => {
      const verify = (): void => verifyInclusion(vector.leafIdx, vector.treeSize, vector.leafHash, vector.proof, vector.root);
      if (vector.wantErr) expect(verify).toThrow(ProofError);
      else expect(verify).not.toThrow();
    });

    test.each(consistencyVectors)('$file: $desc', ({ vector }) => {
      const verify = (): void => verifyConsistency(vector.size1, vector.size2, vector.root1, vector.root2, vector.proof);
      if (vector.wantErr) expect(verify).toThrow(ProofError);
      else expect(verify).not.toThrow();
    });
  });

  describe('leaf hashes of many entries at once', () => {
    // SHA-256(0x00): the RFC 6962 hash of an empty leaf.
    const EMPTY_LEAF = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';

    test.each([0, 5, 1000])('a batch of %i entries has the leaf hash of each, in order', async (count) => {
      const entries = Array.from({ length: count }, (_, i) => new TextEncoder().encode(i === 0 ? '' : `{"index":${i}}`.repeat(i % 7)));
      const hashes = await leafHashes(entries);
      expect(hashes.map(hex)).toEqual(entries.map((entry) => hex(leafHash(entry))));
      if (count > 0) expect(hex(hashes[0]!)).toBe(EMPTY_LEAF);
    });

    it('keeps concurrent batches apart', async () => {
      const batches = Array.from({ length: 4 }, (_, b) => Array.from({ length: 300 }, (_, i) => new TextEncoder().encode(`${b}/${i}`)));
      const hashed = await Promise.all(batches.map((batch) => leafHashes(batch)));
      hashed.forEach((hashes, b) => expect(hashes.map(hex)).toEqual(batches[b]!.map((entry) => hex(leafHash(entry)))));
    });
  });
});

function perfectSubtreeTable(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [[...leafHashes]];
  for (let below = levels[0]!; below.length > 1; ) {
    const level: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) level.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(level);
    below = level;
  }
  return levels;
}

function rangeHasher(table: readonly Uint8Array[][]): (range: LeafRange) => Uint8Array {
  const subtreeHash = ({ level, index }: PerfectSubtree): Uint8Array => {
    const hash = table[level]?.[index];
    if (hash === undefined) throw new Error(`no perfect subtree ${level}/${index} in the test tree`);
    return hash;
  };
  return (range) => foldSubtreeHashes(perfectSubtreesOf(range).map(subtreeHash));
}

/** MTH straight from RFC 6962 section 2.1, independent of leaf-ranges.ts. */
function referenceRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_TREE_ROOT;
  if (leafHashes.length === 1) return leafHashes[0]!;
  let k = 1;
  while (k * 2 < leafHashes.length) k *= 2;
  return nodeHash(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

// ---------------------------------------------------------------------------------------------
// Known answers: the RFC 6962 reference tree of transparency-dev/merkle's tests

const referenceLeaves = [
  bytes(),
  bytes(0x00),
  bytes(0x10),
  bytes(0x20, 0x21),
  bytes(0x30, 0x31),
  bytes(0x40, 0x41, 0x42, 0x43),
  bytes(0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57),
  bytes(0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f),
];
const referenceRootsBySize = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('RFC 6962 hashing', () => {
  const rangeHash = rangeHasher(perfectSubtreeTable(referenceLeaves.map(leafHash)));

  it('hashes the empty tree, an empty leaf and a leaf like RFC 6962', () => {
    expect(hex(EMPTY_TREE_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(leafHash(bytes()))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(hex(leafHash(new TextEncoder().encode('L123456')))).toBe(
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    );
    expect(leafHash(bytes())).toHaveLength(HASH_SIZE);
  });

  it('gives the known root of every prefix of the reference tree', () => {
    const roots = referenceRootsBySize.map((_, i) => hex(rangeHash({ begin: 0, end: i + 1 })));
    expect(roots).toEqual(referenceRootsBySize);
    expect(hex(rangeHash({ begin: 0, end: 0 }))).toBe(hex(EMPTY_TREE_ROOT));
  });

  it('gives the known inclusion proofs of the reference tree', () => {
    const proof = (index: number, size: number): string[] => inclusionProofRanges(index, size).map((r) => hex(rangeHash(r)));
    expect(proof(0, 8)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(proof(5, 8)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(proof(2, 3)).toEqual(['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']);
    expect(proof(1, 5)).toEqual([
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
    expect(proof(0, 1)).toEqual([]);
  });

  it('gives the known consistency proofs of the reference tree', () => {
    const proof = (size1: number, size2: number): string[] =>
      consistencyProofRanges(size1, size2).map((r) => hex(rangeHash(r)));
    expect(proof(1, 8)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(proof(6, 8)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(proof(2, 5)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
    expect(proof(6, 7)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(proof(8, 8)).toEqual([]);
    expect(proof(0, 8)).toEqual([]);
  });

  it('refuses node children that are not 32-byte hashes', () => {
    const hash = leafHash(bytes());
    expect(() => nodeHash(hash, bytes(1, 2, 3))).toThrow('got 32 and 3 bytes');
    expect(() => foldSubtreeHashes([hash, hash.subarray(1)])).toThrow('subtree hash 1 has 31 bytes, expected 32');
  });
});

// ---------------------------------------------------------------------------------------------
// Generated trees: proofs built from leaf ranges verify with the RFC 9162 verifiers

describe('proofs of generated trees', () => {
  const largest = 4097;
  const leafHashes = Array.from({ length: largest }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const rangeHash = rangeHasher(perfectSubtreeTable(leafHashes));
  const smallSizes = Array.from({ length: 70 }, (_, i) => i + 1);
  const roots = new Map([...smallSizes, 1024, 1025, 4096, largest].map((size) => [size, rangeHash({ begin: 0, end: size })]));
  const root = (size: number): Uint8Array => roots.get(size) ?? rangeHash({ begin: 0, end: size });

  it('folds [0, size) into the RFC 6962 root', () => {
    for (const [size, hash] of roots) expect(hex(hash), `size ${size}`).toBe(hex(referenceRoot(leafHashes.slice(0, size))));
  });

  it('folds every proof range into the RFC 6962 hash of its leaves', () => {
    const referenceHashes = new Map<string, string>();
    const referenceHash = ({ begin, end }: LeafRange): string => {
      const key = `${begin}-${end}`;
      let hash = referenceHashes.get(key);
      if (hash === undefined) referenceHashes.set(key, (hash = hex(referenceRoot(leafHashes.slice(begin, end)))));
      return hash;
    };
    for (const size2 of smallSizes) {
      for (let i = 0; i < size2; i++) {
        const ranges = [...inclusionProofRanges(i, size2), ...consistencyProofRanges(i + 1, size2)];
        for (const r of ranges) {
          expect(hex(rangeHash(r)), `[${r.begin}, ${r.end})`).toBe(referenceHash(r));
        }
      }
    }
  });

  function checkInclusion(index: number, size: number): void {
    const proof = inclusionProofRanges(index, size).map(rangeHash);
    const leaf = leafHashes[index]!;
    expect(hex(rootFromInclusionProof(BigInt(index), BigInt(size), leaf, proof))).toBe(hex(root(size)));
    verifyInclusion(BigInt(index), BigInt(size), leaf, proof, root(size));
    if (proof.length > 0) {
      const tampered = proof.map((hash, i) => (i === index % proof.length ? withFlippedByte(hash) : hash));
      expect(() => verifyInclusion(BigInt(index), BigInt(size), leaf, tampered, root(size))).toThrow(ProofError);
    }
    expect(() => verifyInclusion(BigInt(index), BigInt(size), withFlippedByte(leaf), proof, root(size))).toThrow(ProofError);
    const otherIndex = BigInt((index + 1) % size);
    if (size > 1) expect(() => verifyInclusion(otherIndex, BigInt(size), leaf, proof, root(size))).toThrow(ProofError);
  }

  function checkConsistency(size1: number, size2: number): void {
    const proof = consistencyProofRanges(size1, size2).map(rangeHash);
    verifyConsistency(BigInt(size1), BigInt(size2), root(size1), root(size2), proof);
    if (proof.length > 0) {
      const tampered = proof.map((hash, i) => (i === size1 % proof.length ? withFlippedByte(hash) : hash));
      expect(() => verifyConsistency(BigInt(size1), BigInt(size2), root(size1), root(size2), tampered)).toThrow(ProofError);
    }
    const otherSize1 = BigInt(size1 < size2 ? size1 + 1 : size1 - 1);
    expect(() => verifyConsistency(otherSize1, BigInt(size2), root(size1), root(size2), proof)).toThrow(ProofError);
    if (size1 < size2) {
      expect(() => verifyConsistency(BigInt(size1), BigInt(size2), root(size2), root(size2), proof)).toThrow(ProofError);
    }
  }

  it('proves every leaf of every tree of 1 to 70 leaves', () => {
    for (const size of smallSizes) for (let index = 0; index < size; index++) checkInclusion(index, size);
  });

  /** Both ends of a large tree in full, and a stride through the middle. */
  const sampled = (size: number): number[] => {
    const ends = Array.from({ length: 64 }, (_, i) => [i, size - 1 - i]).flat();
    const middle = Array.from({ length: Math.floor(size / 61) }, (_, i) => i * 61);
    return [...new Set([...ends, ...middle])].filter((i) => i >= 0 && i < size).sort((a, b) => a - b);
  };

  it('proves leaves of trees of 1025 and 4097 leaves', () => {
    for (const size of [1025, largest]) for (const index of sampled(size)) checkInclusion(index, size);
  });

  it('proves every pair of tree sizes up to 70 consistent', () => {
    for (const size2 of smallSizes) for (let size1 = 1; size1 <= size2; size1++) checkConsistency(size1, size2);
  });

  it('proves earlier trees consistent with trees of 1024, 1025, 4096 and 4097 leaves', () => {
    for (const size2 of [1024, 1025, 4096, largest]) for (const index of sampled(size2)) checkConsistency(index + 1, size2);
  });

  it('says what is wrong with a proof', () => {
    const proof = inclusionProofRanges(5, 8).map(rangeHash);
    expect(() => verifyInclusion(5n, 8n, leafHashes[5]!, proof.slice(1), root(8))).toThrow(
      'inclusion proof for leaf 5 in a tree of 8 has 2 hashes, expected 3',
    );
    expect(() => verifyInclusion(5n, 8n, leafHashes[4]!, proof, root(8))).toThrow(/^root mismatch/);
    expect(() => verifyInclusion(8n, 8n, leafHashes[5]!, proof, root(8))).toThrow('leaf 8 is not in a tree of 8 leaves');
    expect(() => verifyInclusion(5n, 8n, leafHashes[5]!, [proof[0]!, proof[1]!.subarray(2), proof[2]!], root(8))).toThrow(
      'inclusion proof hash 1 has 30 bytes, expected 32',
    );
    expect(() => verifyConsistency(9n, 8n, root(8), root(8), [])).toThrow('a tree of 9 leaves cannot be a prefix of one of 8');
    expect(() => verifyConsistency(3n, 8n, root(3), root(8), [])).toThrow(
      'consistency proof from a tree of 3 to 8 leaves has 0 hashes, expected 4',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Trees far past 2^32 leaves: pure arithmetic, and hashing over trees whose leaves are all equal

describe('leaf ranges of very large trees', () => {
  const sizes = [2 ** 32 + 1, 2 ** 40 - 1, 2 ** 40 + 2 ** 20 + 3, 2 ** 52 - 1, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];

  /** Whether the ranges cover [0, size) exactly once, in any order. */
  function partition(ranges: readonly LeafRange[], size: number): boolean {
    const sorted = [...ranges].sort((a, b) => a.begin - b.begin);
    let next = 0;
    for (const { begin, end } of sorted) {
      if (begin !== next || end <= begin) return false;
      next = end;
    }
    return next === size;
  }

  it('finds the perfect subtrees of trees near 2^40, 2^52 and 2^53', () => {
    expect(perfectSubtreesOf({ begin: 0, end: 2 ** 40 + 2 ** 20 + 3 })).toEqual([
      { level: 40, index: 0 },
      { level: 20, index: 2 ** 20 },
      { level: 1, index: 2 ** 39 + 2 ** 19 },
      { level: 0, index: 2 ** 40 + 2 ** 20 + 2 },
    ]);
    expect(perfectSubtreesOf({ begin: 0, end: 2 ** 52 + 1 })).toEqual([
      { level: 52, index: 0 },
      { level: 0, index: 2 ** 52 },
    ]);
    expect(perfectSubtreesOf({ begin: 2 ** 52, end: 2 ** 52 + 2 ** 51 })).toEqual([{ level: 51, index: 2 }]);
    expect(perfectSubtreesOf({ begin: 0, end: Number.MAX_SAFE_INTEGER })).toEqual(
      Array.from({ length: 53 }, (_, i) => ({ level: 52 - i, index: 2 ** (i + 1) - 2 })),
    );
    expect(perfectSubtreesOf({ begin: 2 ** 52 - 1, end: 2 ** 52 - 1 })).toEqual([]);
  });

  it('names proof ranges near 2^52 without overflow', () => {
    expect(inclusionProofRanges(2 ** 52 + 2, 2 ** 52 + 3)).toEqual([
      { begin: 2 ** 52, end: 2 ** 52 + 2 },
      { begin: 0, end: 2 ** 52 },
    ]);
    expect(consistencyProofRanges(2 ** 52, 2 ** 52 + 3)).toEqual([{ begin: 2 ** 52, end: 2 ** 52 + 3 }]);
    expect(inclusionProofRanges(0, Number.MAX_SAFE_INTEGER)).toHaveLength(53);
  });

  it('covers the rest of the tree exactly once with every proof', () => {
    for (const size of sizes) {
      for (const index of [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, size - 2, size - 1]) {
        const ranges = [...inclusionProofRanges(index, size), { begin: index, end: index + 1 }];
        expect(partition(ranges, size), `leaf ${index} of ${size}`).toBe(true);
        const size1 = index + 1;
        // The proof and the first tree's own root (when it is a perfect subtree the proof omits) cover the second tree.
        const proof = consistencyProofRanges(size1, size);
        const omitted = isPowerOfTwo(size1) && size1 < size ? [{ begin: 0, end: size1 }] : [];
        if (size1 < size) expect(partition([...proof, ...omitted], size), `${size1} to ${size}`).toBe(true);
        for (const range of [...proof, ...ranges]) expect(() => perfectSubtreesOf(range)).not.toThrow();
      }
    }
  });

  it('verifies proofs in trees of up to 2^53 - 1 equal leaves', () => {
    const leaf = leafHash(bytes(0x2a));
    const perfect = [leaf];
    for (let level = 1; level <= 53; level++) perfect.push(nodeHash(perfect[level - 1]!, perfect[level - 1]!));
    const rangeHash = (range: LeafRange): Uint8Array =>
      foldSubtreeHashes(perfectSubtreesOf(range).map(({ level }) => perfect[level]!));
    for (const size of sizes) {
      const root = rangeHash({ begin: 0, end: size });
      for (const index of [0, 2 ** 32, size - 2, size - 1]) {
        const proof = inclusionProofRanges(index, size).map(rangeHash);
        verifyInclusion(BigInt(index), BigInt(size), leaf, proof, root);
        expect(() => verifyInclusion(BigInt(index), BigInt(size), leaf, proof.slice(1), root)).toThrow(ProofError);
        const size1 = index + 1;
        const consistency = consistencyProofRanges(size1, size).map(rangeHash);
        verifyConsistency(BigInt(size1), BigInt(size), rangeHash({ begin: 0, end: size1 }), root, consistency);
      }
    }
  });

  it('refuses indexes and sizes it cannot represent exactly', () => {
    expect(() => inclusionProofRanges(5, 5)).toThrow('leaf index 5 is not in a tree of 5 leaves');
    expect(() => inclusionProofRanges(0, 2 ** 53)).toThrow(RangeError);
    expect(() => inclusionProofRanges(-1, 5)).toThrow(RangeError);
    expect(() => inclusionProofRanges(1.5, 5)).toThrow(RangeError);
    expect(() => consistencyProofRanges(6, 5)).toThrow('a tree of 6 leaves cannot be a prefix of one of 5');
    expect(() => perfectSubtreesOf({ begin: 3, end: 7 })).toThrow(RangeError);
    expect(() => perfectSubtreesOf({ begin: 7, end: 3 })).toThrow(RangeError);
  });
});
