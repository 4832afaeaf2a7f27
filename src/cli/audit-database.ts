import { resolve } from 'node:path';
import type { WitnessConfig } from '../config/config-schema.js';
import { parseWitnessVerifierKey } from '../ledger/cosignature.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { WitnessFeed } from '../ledger/witness-feed.js';
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

/**
 * Opens the database and the writer of log `origin`, which signs its checkpoints with `signer`
 * and sends each to the configured witnesses.
 */
export async function openAuditDatabase(
  url: string,
  origin: string,
  signer: NoteSigner,
  env: NodeJS.ProcessEnv,
  witnesses: readonly WitnessConfig[] = [],
): Promise<AuditDatabase> {
  const store = await openStore({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN });
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
    return { store, appender, url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
