import type { Client } from '@libsql/client';
import type { Entry } from '../ledger/entry.js';
import { connectDatabase, explainOpenFailure, isInMemoryUrl, redactUrl, StoreOpenError } from './database-connection.js';
import type { DatabaseOptions } from './database-connection.js';
import { createEntryAppender } from './entry-appender.js';
import type { EntryAppender, WriterConnection } from './entry-appender.js';
import { queryEntries, queryLogNames } from './entry-queries.js';
import type { EntryQuery } from './entry-queries.js';
import { applyMigrations } from './migrations.js';

export type StoreOptions = DatabaseOptions;

/** The audit database: one writer per log, plus the read side reviewers use. */
export interface Store {
  /** The database URL, with any auth token redacted. */
  readonly url: string;
  /** The writer of a log (a checkpoint origin). The same appender is returned for the same log. */
  appender(log: string): Promise<EntryAppender>;
  entries(log: string, query?: EntryQuery): Promise<Entry[]>;
  logs(): Promise<string[]>;
  /** Waits for queued appends, then closes the database. */
  close(): Promise<void>;
}

/** Opens (creating if needed) and migrates the audit database; throws StoreOpenError. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const client = await connectDatabase(options);
  try {
    await applyMigrations(client);
  } catch (error) {
    client.close();
    throw new StoreOpenError(options.url, explainOpenFailure(error), { cause: error });
  }
  return new LibsqlStore(client, options);
}

class LibsqlStore implements Store {
  readonly url: string;
  readonly #client: Client;
  readonly #options: StoreOptions;
  readonly #appenders = new Map<string, Promise<EntryAppender>>();

  constructor(client: Client, options: StoreOptions) {
    this.#client = client;
    this.#options = options;
    this.url = redactUrl(options.url);
  }

  appender(log: string): Promise<EntryAppender> {
    let appender = this.#appenders.get(log);
    if (appender === undefined) {
      appender = createEntryAppender(this.#writerConnection(), log);
      this.#appenders.set(log, appender);
      // A failed start (e.g. the database was briefly locked) must not stick to the log forever.
      appender.catch(() => this.#appenders.delete(log));
    }
    return appender;
  }

  entries(log: string, query?: EntryQuery): Promise<Entry[]> {
    return queryEntries(this.#client, log, query);
  }

  logs(): Promise<string[]> {
    return queryLogNames(this.#client);
  }

  async close(): Promise<void> {
    const appenders = await Promise.allSettled(this.#appenders.values());
    await Promise.all(appenders.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
    this.#client.close();
  }

  /**
   * Each writer gets a connection of its own, so that replacing it after a failed write (see
   * WriterConnection) cannot disturb readers. An in-memory database has only the one.
   */
  #writerConnection(): WriterConnection {
    if (isInMemoryUrl(this.#options.url)) {
      const shared = this.#client;
      return { open: () => Promise.resolve(shared), replaceable: false };
    }
    return { open: () => connectDatabase(this.#options), replaceable: true };
  }
}
