import type { Client, InValue } from '@libsql/client';
import { z } from 'zod';
import { EntrySchema } from '../ledger/entry.js';
import type { Entry } from '../ledger/entry.js';

export const EntryQuerySchema = z.object({
  /** Only the entries of this session. */
  session: z.string().optional(),
  /** Only entries with an index greater than this (for paging: pass the last index you saw). */
  afterIndex: z.number().int().optional(),
  /** At most this many entries. */
  limit: z.number().int().positive().optional(),
});
export type EntryQuery = z.infer<typeof EntryQuerySchema>;

/** The entries of a log in index order, parsed from their signed bodies. */
export async function queryEntries(client: Client, log: string, query: EntryQuery = {}): Promise<Entry[]> {
  const { session, afterIndex, limit } = EntryQuerySchema.parse(query);
  const conditions = ['log = ?'];
  const args: InValue[] = [log];
  if (session !== undefined) {
    conditions.push('session = ?');
    args.push(session);
  }
  if (afterIndex !== undefined) {
    conditions.push('idx > ?');
    args.push(afterIndex);
  }
  let sql = `SELECT idx, body FROM entries WHERE ${conditions.join(' AND ')} ORDER BY idx`;
  if (limit !== undefined) {
    sql += ' LIMIT ?';
    args.push(limit);
  }
  const result = await client.execute({ sql, args });
  return result.rows.map((row) => parseEntryBody(log, Number(row['idx']), row['body']));
}

/** The names of the logs that have at least one entry. */
export async function queryLogNames(client: Client): Promise<string[]> {
  const result = await client.execute('SELECT DISTINCT log FROM entries ORDER BY log');
  return result.rows.map((row) => String(row['log']));
}

function parseEntryBody(log: string, index: number, body: unknown): Entry {
  const where = `entry ${index} of log "${log}"`;
  if (!(body instanceof ArrayBuffer || body instanceof Uint8Array)) {
    throw new Error(`${where} has no stored body (expected a BLOB, found ${typeof body})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new Error(`${where} is not valid UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = EntrySchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${where} does not match the entry schema: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
