import type { WitnessConfig } from '../config/config-schema.js';
import { parseWitnessVerifierKey } from '../ledger/cosignature.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { WitnessFeed } from '../ledger/witness-feed.js';
import type { EntryAppender } from './entry-appender.js';
import type { Store } from './libsql-store.js';

/** An opened audit database with the writer of one log. */
export interface AuditDatabase {
  store: Store;
  appender: EntryAppender;
  url: string;
  /** Waits for queued appends and witness requests in flight, then closes the database. */
  close(): Promise<void>;
}

/**
 * The writer of log `origin` in `store`, which signs its checkpoints with `signer` and sends each
 * to the witnesses (a failed request is told to `onWitnessError` and retried). Closes the store
 * when the writer cannot start.
 */
export async function openLogWriter(
  store: Store,
  origin: string,
  signer: NoteSigner,
  witnesses: readonly WitnessConfig[],
  onWitnessError: (message: string) => void,
): Promise<AuditDatabase> {
  const feeds = witnesses.map((config) => {
    const witness = parseWitnessVerifierKey(config.key);
    return new WitnessFeed({
      url: config.url,
      witness,
      proveConsistency: (size1, size2) => store.consistencyProof(origin, size1, size2),
      storeCosignature: (size, lines) => store.addCosignature(origin, size, witness.verifierKey, lines),
      onError: onWitnessError,
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
