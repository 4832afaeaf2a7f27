import type { Client } from '@libsql/client';
import { z } from 'zod';
import { CredentialStatusSchema } from '../credentials/credential-life-cycle.js';
import type { CredentialStatus } from '../credentials/credential-life-cycle.js';
import { applyRecordedChange, insertRecordedRow, LedgerRowShape, listNamedRows, readNamedRow } from './stored-row.js';
import type { RecordedChange } from './stored-row.js';

/** A credentials row: the life cycle of a delegated credential (see migration 5). */
export const CredentialRecordSchema = z.object({ name: z.string(), status: CredentialStatusSchema, fingerprint: z.string().nullable(), ...LedgerRowShape });
export type CredentialRecord = z.infer<typeof CredentialRecordSchema>;

export function readCredentialRecord(client: Client, name: string): Promise<CredentialRecord | undefined> {
  return readNamedRow(client, 'credentials', CredentialRecordSchema, name);
}

export function listCredentialRecords(client: Client): Promise<CredentialRecord[]> {
  return listNamedRows(client, 'credentials', CredentialRecordSchema);
}

/** What a running gateway asks before each request: the credentials it must no longer delegate. */
export async function readRevokedCredentialNames(client: Client): Promise<string[]> {
  const result = await client.execute("SELECT name FROM credentials WHERE status = 'revoked'");
  return result.rows.map((row) => String(row['name']));
}

export interface CredentialChange extends RecordedChange {
  readonly name: string;
  readonly status: CredentialStatus;
  /** The new secret's fingerprint (add, rotate); the stored one is kept when omitted. */
  readonly fingerprint?: string | undefined;
}

/** A credential recorded for the first time, by ledger entry `entry` of `log`. False when the name is taken. */
export function insertCredentialRecord(client: Client, change: CredentialChange): Promise<boolean> {
  return insertRecordedRow(client, 'credentials', change.name, { status: change.status, fingerprint: change.fingerprint ?? null }, change);
}

/** Applies the state that ledger entry `change.entry` recorded (see applyRecordedChange). */
export function applyCredentialChange(client: Client, change: CredentialChange): Promise<boolean> {
  return applyRecordedChange(client, 'credentials', change.name, { status: change.status, fingerprint: change.fingerprint }, change);
}
