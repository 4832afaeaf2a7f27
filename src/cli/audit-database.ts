import { resolve } from 'node:path';
import { openStore, type Store } from '../store/open-store.js';
import type { EntryAppender } from '../store/entry-appender.js';
import type { NoteSigner } from '../ledger/note-keys.js';

export interface AuditDatabase {
  store: Store;
  appender: EntryAppender;
  url: string;
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

/** Opens the database and the writer of log `origin`, which signs its checkpoints with `signer`. */
export async function openAuditDatabase(
  url: string,
  origin: string,
  signer: NoteSigner,
  env: NodeJS.ProcessEnv,
): Promise<AuditDatabase> {
  const store = await openStore({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN });
  try {
    return { store, appender: await store.appender(origin, signer), url };
  } catch (error) {
    await store.close();
    throw error;
  }
}
