import { resolve } from 'node:path';
import type { LogConfig, WitnessConfig } from '../config/config-schema.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import type { DatabaseOptions } from '../store/database-connection.js';
import { openLogWriter } from '../store/log-writer.js';
import type { AuditDatabase } from '../store/log-writer.js';
import { openStore } from '../store/open-store.js';

export type { AuditDatabase };

/**
 * `--db`, then $AGENTTRAIL_DB, then the config's log.db. A relative `file:` path is made absolute
 * against the working folder now, so that it names the same file however the process moves on.
 */
export function resolveDatabaseUrl(flag: string | undefined, fromConfig: string, env: NodeJS.ProcessEnv): string {
  const url = flag ?? env.AGENTTRAIL_DB ?? fromConfig;
  const relativeFile = /^file:(?!\/)(.+)$/.exec(url);
  return relativeFile?.[1] === undefined || relativeFile[1] === ':memory:' ? url : `file:${resolve(relativeFile[1])}`;
}

// How stale an embedded replica may be: also how long a revoked token still works at its gateway.
const DEFAULT_SYNC_INTERVAL_SECONDS = 1;

/**
 * The database of the config's log (or the one `--db` or $AGENTTRAIL_DB names instead), with the
 * server's token from $AGENTTRAIL_DB_AUTH_TOKEN. A `file:` database is an embedded replica when
 * the config gives log.syncUrl; a server named on the command line is used directly.
 */
export function resolveDatabase(flag: string | undefined, log: Pick<LogConfig, 'db' | 'syncUrl' | 'syncIntervalSeconds'>, env: NodeJS.ProcessEnv): DatabaseOptions {
  const url = resolveDatabaseUrl(flag, log.db, env);
  const replica = log.syncUrl !== undefined && url.startsWith('file:');
  return {
    url,
    authToken: env.AGENTTRAIL_DB_AUTH_TOKEN,
    ...(replica ? { syncUrl: log.syncUrl, syncIntervalSeconds: log.syncIntervalSeconds ?? DEFAULT_SYNC_INTERVAL_SECONDS } : {}),
  };
}

/**
 * Opens the database and the writer of log `origin`, which signs its checkpoints with `signer`
 * and sends each to the configured witnesses.
 */
export async function openAuditDatabase(
  database: DatabaseOptions,
  origin: string,
  signer: NoteSigner,
  witnesses: readonly WitnessConfig[] = [],
): Promise<AuditDatabase> {
  const reportWitnessError = (message: string) => process.stderr.write(`agenttrail: ${message}; will retry\n`);
  return openLogWriter(await openStore(database), origin, signer, witnesses, reportWitnessError);
}
