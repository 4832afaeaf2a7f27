import { resolve } from 'node:path';
import type { LogConfig, WitnessConfig } from '../config/config-schema.js';
import { parseWitnessVerifierKey } from '../ledger/cosignature.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { WitnessFeed } from '../ledger/witness-feed.js';
import type { DatabaseOptions } from '../store/database-connection.js';
import type { EntryAppender } from '../store/entry-appender.js';
import { openStore, type Store } from '../store/open-store.js';

export interface AuditDatabase {
  store: Store;
  appender: EntryAppender;
  url: string;
  /** Waits for queued appends and witness requests in flight, then closes the database. */
  close(): Promise<void>;
}

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
  const store = await openStore(database);
  const feeds = witnesses.map((config) => {
    const witness = parseWitnessVerifierKey(config.key);
    return new WitnessFeed({
      url: config.url,
      witness,
      proveConsistency: (size1, size2) => store.consistencyProof(origin, size1, size2),
      storeCosignature: (size, lines) => store.addCosignature(origin, size, witness.verifierKey, lines),
      onError: (message) => process.stderr.write(`agenttrail: ${message}; will retry\n`),
    });
  });
  const close = async (): Promise<void> => {
    await Promise.all(feeds.map((feed) => feed.close()));
    await store.close();
  };
  try {
    const appender = await store.appender(origin, signer, (checkpoint) => {
      for (const feed of feeds) feed.offer(checkpoint);
    });
    // A restarted gateway brings its witnesses up to date before any new entry.
    const latest = feeds.length === 0 ? undefined : await store.checkpoint(origin);
    if (latest !== undefined) for (const feed of feeds) feed.offer(latest);
    return { store, appender, url: store.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
