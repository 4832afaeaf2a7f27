import type { Client } from '@libsql/client';
import { z } from 'zod';
import { encodeBase64 } from '../../ledger/base64.js';
import { readCheckpoint } from '../../store/checkpoint-queries.js';
import { readStoredLeaves } from '../../store/entry-queries.js';
import { proveInclusion } from '../../store/proof-queries.js';

/**
 * What a browser needs to check entries against the log's signed checkpoint without trusting the
 * gateway's word: the stored bytes of each entry, its RFC 6962 inclusion proof, and the signed
 * note. The browser recomputes every hash itself (browser/proof-check.ts); the verifier key it
 * checks the note with is the reader's to choose.
 */
export interface ProofMaterial {
  readonly log: string;
  /** The latest checkpoint as stored: a C2SP signed note, byte for byte. */
  readonly checkpoint: string;
  readonly entries: readonly EntryProof[];
}

export interface EntryProof {
  readonly index: number;
  /** Base64 of the stored body: the bytes its leaf hash covers, unless pruned. */
  readonly body: string;
  /** Base64 of each hash of its inclusion proof in the checkpoint's tree, the leaf's sibling first. */
  readonly proof: readonly string[];
  /** Retention removed its payload: the bytes kept are not the ones that were signed. */
  readonly pruned: boolean;
}

/** At most this many entries in one request: each costs a proof read from the tiles. */
export const MAX_PROVEN_ENTRIES = 1000;

/** `entries=3,4,17`: the indexes whose proofs the browser asks for. */
export const ProofQuerySchema = z.object({
  entries: z
    .string()
    .regex(/^\d{1,16}(,\d{1,16})*$/, 'expected entry indexes separated by commas, e.g. entries=3,4,17')
    .transform((text) => [...new Set(text.split(',').map(Number))])
    .refine((indexes) => indexes.length <= MAX_PROVEN_ENTRIES, `at most ${MAX_PROVEN_ENTRIES} entries at a time`),
});

/** The material for the given entries of `log`; entries the checkpoint does not cover yet are left out. */
export async function readProofMaterial(client: Client, log: string, indexes: readonly number[]): Promise<ProofMaterial | undefined> {
  const checkpoint = await readCheckpoint(client, log);
  if (checkpoint === undefined) return undefined;
  const entries: EntryProof[] = [];
  for (const index of [...indexes].sort((a, b) => a - b)) {
    if (index >= checkpoint.size) continue;
    for await (const [leaf] of readStoredLeaves(client, log, { from: index, to: index + 1 }, 1)) {
      if (leaf === undefined) continue;
      const proof = await proveInclusion(client, log, index, checkpoint.size);
      entries.push({ index, body: encodeBase64(leaf.body), proof: proof.map(encodeBase64), pruned: leaf.prunedLeaf !== undefined });
    }
  }
  return { log, checkpoint: checkpoint.note, entries };
}
