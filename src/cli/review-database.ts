import type { Client } from '@libsql/client';
import { connectDatabase, explainOpenFailure, redactUrl, StoreOpenError } from '../store/database-connection.js';
import { queryLogNames } from '../store/entry-queries.js';
import { applyMigrations, requireLedgerSchema } from '../store/migrations.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { assertDatabaseExists } from './existing-database.js';
import type { LogCatalog } from './log-choice.js';

/** The audit database as the reviewer's commands (sessions, show, search, export) read it. */
export interface ReviewDatabase extends LogCatalog {
  readonly client: Client;
  close(): void;
}

/**
 * Opens an existing audit database. `read` changes nothing (the ledger's schema must be there
 * already); `index` may bring the schema up to date, for `search`, which keeps its own index in the
 * database.
 */
export async function openReviewDatabase(flag: string | undefined, env: NodeJS.ProcessEnv, purpose: 'read' | 'index'): Promise<ReviewDatabase> {
  const url = resolveDatabaseUrl(flag, 'file:agenttrail.db', env);
  await assertDatabaseExists(url);
  const client = await connectDatabase({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN });
  try {
    await (purpose === 'read' ? requireLedgerSchema(client) : applyMigrations(client));
  } catch (error) {
    client.close();
    throw new StoreOpenError(url, explainOpenFailure(error), { cause: error });
  }
  return {
    client,
    url: redactUrl(url),
    logs: () => queryLogNames(client),
    hasSession: async (log, session) =>
      (await client.execute({ sql: 'SELECT 1 FROM entries WHERE log = ? AND session = ? LIMIT 1', args: [log, session] })).rows.length > 0,
    close: () => client.close(),
  };
}
