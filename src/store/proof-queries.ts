import type { Client } from '@libsql/client';
import { consistencyProofRanges, foldSubtreeHashes, inclusionProofRanges, perfectSubtreesOf } from '../ledger/leaf-ranges.js';
import type { LeafRange } from '../ledger/leaf-ranges.js';
import { hashPerfectRun, tileSpanOf } from '../ledger/tiles.js';
import { readTiles, tileKey } from './tile-queries.js';

/** The inclusion proof of entry `index` in the log's tree at `size` (RFC 6962 audit path). */
export function proveInclusion(client: Client, log: string, index: number, size: number): Promise<Uint8Array[]> {
  return hashRanges(client, log, inclusionProofRanges(index, size));
}

/** The consistency proof between the log's trees at `size1` and `size2`. */
export function proveConsistency(client: Client, log: string, size1: number, size2: number): Promise<Uint8Array[]> {
  return hashRanges(client, log, consistencyProofRanges(size1, size2));
}

/** The Merkle tree hash of each range, from the stored tiles, reading each tile once. */
async function hashRanges(client: Client, log: string, ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
  const spans = ranges.map((range) => perfectSubtreesOf(range).map(tileSpanOf));
  const needed = new Map(spans.flat().map((span) => [tileKey(span), span]));
  const tiles = await readTiles(client, log, [...needed.values()]);
  return spans.map((rangeSpans) =>
    foldSubtreeHashes(
      rangeSpans.map((span) => {
        const run = tiles.get(tileKey(span))?.slice(span.offset, span.offset + span.count) ?? [];
        if (run.length !== span.count) {
          throw new Error(
            `tile ${tileKey(span)} of log "${log}" is missing hashes a proof needs; run \`agenttrail verify\``,
          );
        }
        return hashPerfectRun(run);
      }),
    ),
  );
}
