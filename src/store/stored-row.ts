import type { Client, InValue } from '@libsql/client';
import { z } from 'zod';

/**
 * The columns of a row whose state follows the ledger (principals, credentials): when it was made
 * and last changed, and the log and index of the entry that gave it its current state.
 */
export const LedgerRowShape = {
  created: z.string(),
  updated: z.string(),
  log: z.string(),
  entry: z.coerce.number<unknown>().int().nonnegative(),
};

/** The ledger entry that records a change of a row, and when. */
export interface RecordedChange {
  readonly time: string;
  readonly log: string;
  readonly entry: number;
}

/** A new row, its state recorded by entry `recorded.entry` of `recorded.log`. False when the name is taken. */
export async function insertRecordedRow(client: Client, table: string, name: string, columns: Readonly<Record<string, InValue>>, recorded: RecordedChange): Promise<boolean> {
  const values = { name, ...columns, created: recorded.time, updated: recorded.time, log: recorded.log, entry: recorded.entry };
  const result = await client.execute({
    sql: `INSERT INTO ${table} (${Object.keys(values).join(', ')}) VALUES (${Object.keys(values).map(() => '?').join(', ')}) ON CONFLICT (name) DO NOTHING`,
    args: Object.values(values),
  });
  return result.rowsAffected === 1;
}

/**
 * Sets the columns (an undefined one keeps its value) as ledger entry `recorded.entry` recorded,
 * unless a later entry of the same log already gave the row its state; so running it again is
 * harmless, and two processes changing one row at once leave it as the later entry says. False
 * when it did not apply.
 */
export async function applyRecordedChange(
  client: Client,
  table: string,
  name: string,
  columns: Readonly<Record<string, InValue | undefined>>,
  recorded: RecordedChange,
): Promise<boolean> {
  const changed: Record<string, InValue | undefined> = { ...columns, updated: recorded.time, entry: recorded.entry };
  const set = Object.entries(changed).filter((pair): pair is [string, InValue] => pair[1] !== undefined);
  const result = await client.execute({
    sql: `UPDATE ${table} SET ${set.map(([column]) => `${column} = ?`).join(', ')} WHERE name = ? AND log = ? AND entry < ?`,
    args: [...set.map(([, value]) => value), name, recorded.log, recorded.entry],
  });
  return result.rowsAffected === 1;
}

/** A row of `table` (keyed by name) as `schema` describes it; undefined when there is none. */
export async function readNamedRow<T extends z.ZodObject>(client: Client, table: string, schema: T, name: string): Promise<z.infer<T> | undefined> {
  const result = await client.execute({ sql: `SELECT ${columnsOf(schema)} FROM ${table} WHERE name = ?`, args: [name] });
  const row = result.rows[0];
  return row === undefined ? undefined : parseStoredRow(schema, row, table);
}

/** Every row of `table`, by name. */
export async function listNamedRows<T extends z.ZodObject>(client: Client, table: string, schema: T): Promise<z.infer<T>[]> {
  const result = await client.execute(`SELECT ${columnsOf(schema)} FROM ${table} ORDER BY name`);
  return result.rows.map((row) => parseStoredRow(schema, row, table));
}

/** A row of `table` as `schema` describes it; a row that is not is an error that says where to look. */
export function parseStoredRow<T extends z.ZodType>(schema: T, row: unknown, table: string): z.infer<T> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new Error(`a ${table} row is invalid (${parsed.error.issues[0]!.message}); was the table edited by hand?`);
}

function columnsOf(schema: z.ZodObject): string {
  return Object.keys(schema.shape).join(', ');
}
