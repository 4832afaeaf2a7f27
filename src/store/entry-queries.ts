import type { Client, InValue } from '@libsql/client';
import { z } from 'zod';
import { EntrySchema } from '../ledger/entry.js';
import type { Entry } from '../ledger/entry.js';
import { blobBytes } from './blob-bytes.js';

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

/** An entry as stored: its index and the signed body whose hash is its leaf. */
export interface StoredLeaf {
  readonly index: number;
  /** The signed body; once pruned, the body without its payload. */
  readonly body: Uint8Array;
  /** Set once retention removed the payload: the leaf hash of the signed body. */
  readonly prunedLeaf?: Uint8Array | undefined;
}

/**
 * The log's stored bodies in index order from `from` (inclusive) to `to` (exclusive, default: the
 * end), a page at a time, so that integrating or verifying a long log keeps memory flat.
 */
export async function* readStoredLeaves(
  client: Client,
  log: string,
  range: { from: number; to?: number },
  pageSize = 5000,
): AsyncGenerator<StoredLeaf[]> {
  let next = range.from;
  const end = range.to ?? Number.MAX_SAFE_INTEGER;
  while (next < end) {
    const result = await client.execute({
      sql: 'SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx LIMIT ?',
      args: [log, next, end, pageSize],
    });
    if (result.rows.length === 0) return;
    const page = result.rows.map((row) => leafFromRow(log, row));
    yield page;
    next = page[page.length - 1]!.index + 1;
  }
}

/**
 * The stored bodies of one session's entries below index `before`, in index order, a page at a
 * time, so that exporting a long session keeps memory flat.
 */
export async function* readSessionLeaves(
  client: Client,
  log: string,
  session: string,
  before: number,
  pageSize: number,
): AsyncGenerator<StoredLeaf[]> {
  let next = 0;
  for (;;) {
    const result = await client.execute({
      sql: 'SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND session = ? AND idx >= ? AND idx < ? ORDER BY idx LIMIT ?',
      args: [log, session, next, before, pageSize],
    });
    if (result.rows.length === 0) return;
    const page = result.rows.map((row) => leafFromRow(log, row));
    yield page;
    next = page[page.length - 1]!.index + 1;
  }
}

/** The stored bodies of every entry of the given calls (through the (log, call) index), in index order. */
export async function readCallLeaves(client: Client, log: string, calls: readonly string[]): Promise<StoredLeaf[]> {
  if (calls.length === 0) return [];
  // Sorted here: ORDER BY idx would lead the planner to walk the whole log in index order instead.
  const result = await client.execute({
    sql: `SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND call IN (${calls.map(() => '?').join(', ')})`,
    args: [log, ...calls],
  });
  return result.rows.map((row) => leafFromRow(log, row)).sort((a, b) => a.index - b.index);
}

/** The `time` column of one entry; null when there is no such entry. */
export async function readEntryTime(client: Client, log: string, index: number): Promise<string | null> {
  const result = await client.execute({ sql: 'SELECT time FROM entries WHERE log = ? AND idx = ?', args: [log, index] });
  const time = result.rows[0]?.['time'];
  return typeof time === 'string' ? time : null;
}

/** A stored entry with its `kind` column. */
export interface StoredLeafOfKind extends StoredLeaf {
  readonly kind: string;
}

/**
 * The stored entries of the given kinds (the `kind` column), e.g. the few `key.rotated` ones, in
 * index order; only those from index `range.from` (inclusive) to `range.to` (exclusive) when
 * given, which reads that stretch of the log and no more.
 */
export async function readLeavesOfKinds(
  client: Client,
  log: string,
  kinds: readonly string[],
  range?: { from: number; to: number },
  // Without a range the query scans the whole log: on a local file it runs off the main thread (LocalFileReader).
  read: (query: { sql: string; args: (string | number)[] }) => Promise<Record<string, unknown>[]> = async (query) => (await client.execute(query)).rows,
): Promise<StoredLeafOfKind[]> {
  const ofKinds = `kind IN (${kinds.map(() => '?').join(', ')})`;
  const rows = await read(
    range === undefined
      ? { sql: `SELECT idx, kind, body, pruned_leaf FROM entries WHERE log = ? AND ${ofKinds} ORDER BY idx`, args: [log, ...kinds] }
      : { sql: `SELECT idx, kind, body, pruned_leaf FROM entries WHERE log = ? AND idx >= ? AND idx < ? AND ${ofKinds} ORDER BY idx`, args: [log, range.from, range.to, ...kinds] },
  );
  // The kind is one of `kinds`, as the database compared it.
  return rows.map((row) => ({ ...leafFromRow(log, row), kind: String(row['kind']) }));
}

/** A query column whose value is not the signed body's: someone edited one or the other. */
export interface ColumnMismatch {
  readonly index: number;
  /** `body` when the body is not JSON at all. */
  readonly column: string;
  readonly stored: unknown;
  readonly signed: unknown;
}

// The columns kept beside the body for queries, each with the body field it repeats.
const QUERY_COLUMNS = [
  ['idx', 'index'],
  ['time', 'time'],
  ['kind', 'kind'],
  ['session', 'session'],
  ['server', 'server'],
  ['tool', 'tool'],
  ['call', 'call'],
] as const;

/**
 * The query that finds the first entry whose query columns differ from its signed body. The
 * database compares them in one pass (about 800,000 rows/s here), far faster than shipping every
 * column to the verifier; the verifier still hashes every body itself. Its row has `idx` and `bad`
 * (the column, or `body` when the body is not JSON).
 */
export function columnMismatchScan(log: string): { sql: string; args: [string] } {
  const cases = QUERY_COLUMNS.map(([column, field]) => `WHEN ${column} IS NOT json_extract(b, '$.${field}') THEN '${column}'`);
  return {
    sql: `SELECT idx, bad FROM (
            SELECT idx, CASE WHEN json_valid(b) = 0 THEN 'body' ${cases.join(' ')} END AS bad
            FROM (SELECT *, CAST(body AS TEXT) AS b FROM entries WHERE log = ?)
          ) WHERE bad IS NOT NULL ORDER BY idx LIMIT 1`,
    args: [log],
  };
}

/**
 * The mismatch a columnMismatchScan row reports, with the stored and signed values. `scan` runs the
 * scan: on a local file it runs off the main thread (LocalFileReader).
 */
export async function findColumnMismatch(
  client: Client,
  log: string,
  scan: (query: ReturnType<typeof columnMismatchScan>) => Promise<Record<string, unknown> | undefined> = async (query) =>
    (await client.execute(query)).rows[0],
): Promise<ColumnMismatch | undefined> {
  const found = await scan(columnMismatchScan(log));
  if (found === undefined) return undefined;
  const index = Number(found['idx']);
  const column = String(found['bad']);
  const field = QUERY_COLUMNS.find(([c]) => c === column)?.[1];
  if (field === undefined) return { index, column, stored: null, signed: null };
  const values = await client.execute({
    sql: `SELECT ${column} AS stored, json_extract(CAST(body AS TEXT), '$.${field}') AS signed FROM entries WHERE log = ? AND idx = ?`,
    args: [log, index],
  });
  return { index, column, stored: values.rows[0]?.['stored'] ?? null, signed: values.rows[0]?.['signed'] ?? null };
}

function leafFromRow(log: string, row: Record<string, unknown>): StoredLeaf {
  const index = Number(row['idx']);
  return storedLeaf(log, index, row['body'], row['pruned_leaf']);
}

/** A stored entry from its columns (`pruned_leaf` NULL while the entry is whole). */
export function storedLeaf(log: string, index: number, body: unknown, prunedLeaf: unknown): StoredLeaf {
  const where = `entry ${index} of log "${log}"`;
  return {
    index,
    body: blobBytes(body, `the body of ${where}`),
    ...(prunedLeaf === null || prunedLeaf === undefined ? {} : { prunedLeaf: blobBytes(prunedLeaf, `the pruned leaf hash of ${where}`) }),
  };
}

/** The names of the logs that have an entry or a checkpoint. */
export async function queryLogNames(client: Client): Promise<string[]> {
  const result = await client.execute('SELECT log FROM entries UNION SELECT log FROM checkpoints ORDER BY log');
  return result.rows.map((row) => String(row['log']));
}

/** An entry from its stored body; the error names the entry when the body is not a valid entry. */
export function parseEntryBody(log: string, index: number, body: unknown): Entry {
  const where = `entry ${index} of log "${log}"`;
  const bytes = blobBytes(body, `the body of ${where}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (error) {
    throw new Error(`${where} is not valid UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = EntrySchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${where} does not match the entry schema: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
