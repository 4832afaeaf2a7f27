import type { Client, InStatement } from '@libsql/client';

/** Stores a witness's signature lines on the log's checkpoint at `size` (a repeat replaces them). */
export function writeCosignature(log: string, size: number, witness: string, lines: readonly string[]): InStatement {
  return {
    sql: `INSERT INTO cosignatures (log, size, witness, lines) VALUES (?, ?, ?, ?)
          ON CONFLICT (log, size, witness) DO UPDATE SET lines = excluded.lines`,
    args: [log, size, witness, lines.join('')],
  };
}

/** The cosignature lines of every witness on the checkpoints with sizes in [from, to]. */
export async function readCosignatures(client: Client, log: string, from: number, to: number): Promise<Map<number, string>> {
  const result = await client.execute({
    sql: 'SELECT size, lines FROM cosignatures WHERE log = ? AND size >= ? AND size <= ? ORDER BY size, witness',
    args: [log, from, to],
  });
  const bySize = new Map<number, string>();
  for (const row of result.rows) {
    const size = Number(row['size']);
    bySize.set(size, (bySize.get(size) ?? '') + String(row['lines']));
  }
  return bySize;
}
