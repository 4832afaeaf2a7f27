import type { Client, InStatement } from '@libsql/client';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { leafHash } from '../ledger/merkle-hash.js';
import { blobBytes } from './blob-bytes.js';

/**
 * Retention: an old entry loses its payload but keeps its place in the tree. Its row keeps the
 * leaf hash of the signed body (pruned_leaf) and a body without the payload; verification takes
 * the stored hash in place of the body for entries below the boundary that the log's own
 * retention.pruned entries record, so the tree, every checkpoint and every inclusion proof of the
 * entries kept whole still verify.
 */

/** The entry kind that records a pruning, with the boundary below which payloads were removed. */
export const RETENTION_PRUNED_KIND = 'retention.pruned';
// Verification reads these payloads (key handovers; retention boundaries), so they are kept whole.
const NEVER_PRUNED_KINDS = ['key.rotated', RETENTION_PRUNED_KIND] as const;
const BATCH_SIZE = 1000;

const PRUNABLE = `log = ? AND idx < ? AND pruned_leaf IS NULL AND kind NOT IN (${NEVER_PRUNED_KINDS.map(() => '?').join(', ')})
  AND json_type(CAST(body AS TEXT), '$.payload') IS NOT NULL`;

/** The index of the log's first entry recorded at or after `cutoff`; the log's size when there is none. */
export async function retentionBoundary(client: Client, log: string, cutoff: string): Promise<number> {
  const result = await client.execute({
    sql: `SELECT COALESCE((SELECT MIN(idx) FROM entries WHERE log = ? AND time >= ?),
                          (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries WHERE log = ?)) AS boundary`,
    args: [log, cutoff, log],
  });
  return Number(result.rows[0]?.['boundary'] ?? 0);
}

/** How many entries below `before` still have a payload to remove. */
export async function countPrunable(client: Client, log: string, before: number): Promise<number> {
  const result = await client.execute({ sql: `SELECT COUNT(*) AS n FROM entries WHERE ${PRUNABLE}`, args: [log, before, ...NEVER_PRUNED_KINDS] });
  return Number(result.rows[0]?.['n'] ?? 0);
}

/**
 * Removes the payloads of the log's entries below `before`, a write transaction per batch, and
 * takes them out of the search index. Record the boundary in a retention.pruned entry first: an
 * entry pruned beyond it fails verification. Returns how many entries it pruned.
 */
export async function pruneEntriesBefore(client: Client, log: string, before: number): Promise<number> {
  let pruned = 0;
  let next = 0;
  for (;;) {
    const batch = await client.execute({
      sql: `SELECT idx, body FROM entries WHERE ${PRUNABLE} AND idx >= ? ORDER BY idx LIMIT ?`,
      args: [log, before, ...NEVER_PRUNED_KINDS, next, BATCH_SIZE],
    });
    if (batch.rows.length === 0) return pruned;
    next = Number(batch.rows[batch.rows.length - 1]!['idx']) + 1;
    const statements: InStatement[] = batch.rows.flatMap((row) => {
      const index = Number(row['idx']);
      const body = blobBytes(row['body'], `the body of entry ${index} of log "${log}"`);
      return [
        {
          sql: 'UPDATE entries SET body = ?, pruned_leaf = ? WHERE log = ? AND idx = ? AND pruned_leaf IS NULL',
          args: [withoutPayload(body), leafHash(body), log, index],
        },
        { sql: 'DELETE FROM search_text WHERE rowid = (SELECT id FROM search_entries WHERE log = ? AND idx = ?)', args: [log, index] },
      ];
    });
    await client.batch(statements, 'write');
    pruned += batch.rows.length;
  }
}

/** The canonical body of the entry without its payload: still an entry, with every other field as signed. */
function withoutPayload(body: Uint8Array): Uint8Array {
  const { payload: _removed, ...rest } = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
  return canonicalBytes(rest);
}
