import type { Client, InStatement } from '@libsql/client';
import { blobBytes } from './blob-bytes.js';

/** A checkpoints row as stored: the signed note and the columns that repeat it for queries. */
export interface StoredCheckpoint {
  readonly log: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The verifier key of the gateway key that signed it. */
  readonly key: string;
  readonly note: string;
}

export function insertCheckpoint(checkpoint: StoredCheckpoint): InStatement {
  return {
    sql: 'INSERT INTO checkpoints (log, size, root, key, note) VALUES (?, ?, ?, ?, ?)',
    args: [checkpoint.log, checkpoint.size, checkpoint.root, checkpoint.key, checkpoint.note],
  };
}

/** The size of the log's latest checkpoint; 0 when it has none. */
export async function readLatestCheckpointSize(client: Client, log: string): Promise<number> {
  const result = await client.execute({
    sql: 'SELECT COALESCE(MAX(size), 0) AS size FROM checkpoints WHERE log = ?',
    args: [log],
  });
  return Number(result.rows[0]?.['size'] ?? 0);
}

/** The checkpoint of the log at exactly `size` entries, or the latest when size is omitted. */
export async function readCheckpoint(client: Client, log: string, size?: number): Promise<StoredCheckpoint | undefined> {
  const result = await client.execute(
    size === undefined
      ? { sql: 'SELECT * FROM checkpoints WHERE log = ? ORDER BY size DESC LIMIT 1', args: [log] }
      : { sql: 'SELECT * FROM checkpoints WHERE log = ? AND size = ?', args: [log, size] },
  );
  const row = result.rows[0];
  return row === undefined ? undefined : checkpointFromRow(row);
}

/** A stored checkpoint with the signature lines of the witnesses that cosigned it ('' if none). */
export interface CosignedCheckpoint extends StoredCheckpoint {
  readonly cosignatures: string;
}

/** The log's checkpoints in size order, a page at a time, so a long log is never all in memory. */
export async function* readCheckpoints(client: Client, log: string, pageSize = 1000): AsyncGenerator<CosignedCheckpoint[]> {
  let after = -1;
  for (;;) {
    const result = await client.execute({
      sql: `SELECT c.*, (SELECT group_concat(lines, '') FROM cosignatures s WHERE s.log = c.log AND s.size = c.size) AS cosignatures
            FROM checkpoints c WHERE c.log = ? AND c.size > ? ORDER BY c.size LIMIT ?`,
      args: [log, after, pageSize],
    });
    if (result.rows.length === 0) return;
    const page = result.rows.map((row) => ({ ...checkpointFromRow(row), cosignatures: String(row['cosignatures'] ?? '') }));
    yield page;
    after = page[page.length - 1]!.size;
  }
}

function checkpointFromRow(row: Record<string, unknown>): StoredCheckpoint {
  const log = String(row['log']);
  const size = Number(row['size']);
  return {
    log,
    size,
    root: blobBytes(row['root'], `the root of checkpoint ${size} of log "${log}"`),
    key: String(row['key']),
    note: String(row['note']),
  };
}
