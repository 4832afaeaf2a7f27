import type { Client } from '@libsql/client';
import { z } from 'zod';
import { PrincipalSchema } from '../auth/principal.js';
import type { Principal, PrincipalRole, PrincipalStatus } from '../auth/principal.js';

/** A principals row without its token hash, which nothing but authentication ever needs. */
export const PrincipalRecordSchema = PrincipalSchema.extend({
  created: z.string(),
  updated: z.string(),
  /** The log and index of the ledger entry that gave the row its current state. */
  log: z.string(),
  entry: z.number().int().nonnegative(),
});
export type PrincipalRecord = z.infer<typeof PrincipalRecordSchema>;

const RECORD_COLUMNS = 'name, role, status, created, updated, log, entry';

export async function readPrincipal(client: Client, name: string): Promise<PrincipalRecord | undefined> {
  const result = await client.execute({ sql: `SELECT ${RECORD_COLUMNS} FROM principals WHERE name = ?`, args: [name] });
  const row = result.rows[0];
  return row === undefined ? undefined : recordFromRow(row);
}

export async function listPrincipals(client: Client): Promise<PrincipalRecord[]> {
  const result = await client.execute(`SELECT ${RECORD_COLUMNS} FROM principals ORDER BY name`);
  return result.rows.map(recordFromRow);
}

/** One indexed lookup (principals_by_token_hash): what the principal directory asks per request. */
export async function findPrincipalByTokenHash(client: Client, tokenHash: Uint8Array): Promise<Principal | undefined> {
  const result = await client.execute({ sql: 'SELECT name, role, status FROM principals WHERE token_hash = ?', args: [tokenHash] });
  return principalFromRow(result.rows[0]);
}

/** The same lookup with the hash bound as hex, for a statement prepared once (see LocalFileReader.lookup). */
export const PRINCIPAL_BY_HEX_TOKEN_HASH = 'SELECT name, role, status FROM principals WHERE token_hash = unhex(?)';

export function principalFromRow(row: Record<string, unknown> | undefined): Principal | undefined {
  return row === undefined ? undefined : parseRow(PrincipalSchema, row);
}

export interface PrincipalChange {
  readonly name: string;
  readonly status: PrincipalStatus;
  /** The new token's hash (rotate); the stored one is kept when omitted. */
  readonly tokenHash?: Uint8Array | undefined;
  readonly time: string;
  readonly log: string;
  readonly entry: number;
}

/** A new principal, recorded by ledger entry `entry` of `log`. False when the name is taken. */
export async function insertPrincipal(client: Client, principal: PrincipalChange & { role: PrincipalRole; tokenHash: Uint8Array }): Promise<boolean> {
  const result = await client.execute({
    sql: `INSERT INTO principals (name, role, token_hash, status, created, updated, log, entry)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    args: [principal.name, principal.role, principal.tokenHash, principal.status, principal.time, principal.time, principal.log, principal.entry],
  });
  return result.rowsAffected === 1;
}

/**
 * Applies the state that ledger entry `change.entry` recorded, unless a later entry of the same log
 * already gave the row its state; so running it again is harmless, and two processes changing one
 * principal at once leave the row as the later entry says. False when it did not apply.
 */
export async function applyPrincipalChange(client: Client, change: PrincipalChange): Promise<boolean> {
  const result = await client.execute({
    sql: `UPDATE principals SET status = ?, token_hash = COALESCE(?, token_hash), updated = ?, entry = ?
          WHERE name = ? AND log = ? AND entry < ?`,
    args: [change.status, change.tokenHash ?? null, change.time, change.entry, change.name, change.log, change.entry],
  });
  return result.rowsAffected === 1;
}

function recordFromRow(row: Record<string, unknown>): PrincipalRecord {
  return parseRow(PrincipalRecordSchema, { ...row, entry: Number(row['entry']) });
}

function parseRow<T extends z.ZodType>(schema: T, row: unknown): z.infer<T> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new Error(`a principals row is invalid (${parsed.error.issues[0]!.message}); was the table edited by hand?`);
}
