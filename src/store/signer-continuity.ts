import type { Client } from '@libsql/client';
import type { NoteSigner } from '../ledger/note-keys.js';

/**
 * Why `signer` may not extend the log, if it may not. It may when it signed the latest checkpoint, or signed one before, or
 * a key.rotated entry hands the log over to it. Anything else is a second gateway instance given
 * the same log.origin with a key of its own (or a key file that is not this log's): its first
 * checkpoint would make the log fail verification for good, so it must write no entry at all.
 */
export async function foreignSignerReason(client: Client, log: string, signer: NoteSigner): Promise<string | undefined> {
  const latest = await client.execute({ sql: 'SELECT key FROM checkpoints WHERE log = ? ORDER BY size DESC LIMIT 1', args: [log] });
  const latestKey = latest.rows[0]?.['key'];
  if (latestKey === undefined || latestKey === signer.verifierKey) return undefined;
  const known = await client.execute({
    sql: `SELECT 1 FROM checkpoints WHERE log = ? AND key = ?
          UNION ALL
          SELECT 1 FROM entries WHERE log = ? AND kind = 'key.rotated' AND json_extract(CAST(body AS TEXT), '$.payload.next') = ?
          LIMIT 1`,
    args: [log, signer.verifierKey, log, signer.verifierKey],
  });
  if (known.rows.length > 0) return undefined;
  return (
    `log "${log}" is signed by ${String(latestKey)}, not by this gateway's key ${signer.verifierKey}: ` +
      'another gateway instance writes this log, or this is not the log\'s key file; ' +
      'give each gateway instance its own log.origin, or use the key that signs the log'
  );
}
