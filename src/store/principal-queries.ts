import type { Client } from '@libsql/client';
import { z } from 'zod';
import { PrincipalSchema } from '../auth/principal.js';
import type { Principal, PrincipalRole, PrincipalStatus } from '../auth/principal.js';
import { applyRecordedChange, insertRecordedRow, LedgerRowShape, listNamedRows, parseStoredRow, readNamedRow } from './stored-row.js';
import type { RecordedChange } from './stored-row.js';

/** A principals row without its token hash, which nothing but authentication ever needs. */
export const PrincipalRecordSchema = PrincipalSchema.extend(LedgerRowShape);
export type PrincipalRecord = z.infer<typeof PrincipalRecordSchema>;

export function readPrincipal(client: Client, name: string): Promise<PrincipalRecord | undefined> {
  return readNamedRow(client, 'principals', PrincipalRecordSchema, name);
}

export function listPrincipals(client: Client): Promise<PrincipalRecord[]> {
  return listNamedRows(client, 'principals', PrincipalRecordSchema);
}

/** One indexed lookup (principals_by_token_hash): what the principal directory asks per request. */
export async function findPrincipalByTokenHash(client: Client, tokenHash: Uint8Array): Promise<Principal | undefined> {
  const result = await client.execute({ sql: 'SELECT name, role, status FROM principals WHERE token_hash = ?', args: [tokenHash] });
  return principalFromRow(result.rows[0]);
}

/** The same lookup with the hash bound as hex, for a statement prepared once (see LocalFileReader.lookup). */
export const PRINCIPAL_BY_HEX_TOKEN_HASH = 'SELECT name, role, status FROM principals WHERE token_hash = unhex(?)';

export function principalFromRow(row: Record<string, unknown> | undefined): Principal | undefined {
  return row === undefined ? undefined : parseStoredRow(PrincipalSchema, row, 'principals');
}

export interface PrincipalChange extends RecordedChange {
  readonly name: string;
  readonly status: PrincipalStatus;
  /** The new token's hash (rotate); the stored one is kept when omitted. */
  readonly tokenHash?: Uint8Array | undefined;
}

/** A new principal, recorded by ledger entry `entry` of `log`. False when the name is taken. */
export function insertPrincipal(client: Client, principal: PrincipalChange & { role: PrincipalRole; tokenHash: Uint8Array }): Promise<boolean> {
  return insertRecordedRow(client, 'principals', principal.name, { role: principal.role, token_hash: principal.tokenHash, status: principal.status }, principal);
}

/** Applies the state that ledger entry `change.entry` recorded (see applyRecordedChange). */
export function applyPrincipalChange(client: Client, change: PrincipalChange): Promise<boolean> {
  return applyRecordedChange(client, 'principals', change.name, { status: change.status, token_hash: change.tokenHash }, change);
}
