import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { databaseErrorMessage } from './database-error-message.js';

export interface DatabaseOptions {
  /** `file:/abs/path.db`, `http(s)://`, `libsql://`, `ws(s)://`; `file:` paths are best absolute. */
  url: string;
  authToken?: string | undefined;
  /**
   * How long a write waits for another process's lock on a `file:` database before it fails.
   * Default 5000.
   */
  busyTimeoutMs?: number | undefined;
  /**
   * Makes the `file:` database an embedded replica of this libSQL server (`http(s)://`,
   * `libsql://`, `ws(s)://`): it is brought up to date when opened, then every
   * `syncIntervalSeconds`. `authToken` is the server's.
   */
  syncUrl?: string | undefined;
  syncIntervalSeconds?: number | undefined;
}

/** The database could not be opened or prepared; the message names the URL and what to check. */
export class StoreOpenError extends Error {
  constructor(url: string, reason: string, options?: ErrorOptions) {
    super(`cannot open audit database ${redactUrl(url)}: ${reason}`, options);
    this.name = 'StoreOpenError';
  }
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens one client on the audit database, made durable (an embedded replica: brought up to date);
 * throws StoreOpenError.
 */
export async function connectDatabase(options: DatabaseOptions): Promise<Client> {
  const { url, authToken, syncUrl } = options;
  if (syncUrl !== undefined) return connectReplica(options, syncUrl);
  const isFile = isFileUrl(url);
  let client: Client;
  try {
    client = createClient({
      url,
      ...(authToken === undefined ? {} : { authToken }),
      ...(isFile
        ? {
            timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
            // The native driver runs every statement synchronously, so more connections would add
            // no parallelism; one connection means the pragmas below cover every statement.
            concurrency: 1,
          }
        : {}),
    });
  } catch (error) {
    throw new StoreOpenError(url, explainOpenFailure(error), { cause: error });
  }
  if (isFile) {
    try {
      await makeDurable(client);
    } catch (error) {
      client.close();
      throw new StoreOpenError(url, explainOpenFailure(error), { cause: error });
    }
  }
  return client;
}

/**
 * The local copy is read; writes go to the server, which sequences them. Its durability is the
 * server's (the copy can always be fetched again), so the file gets no pragmas of its own.
 */
async function connectReplica(options: DatabaseOptions, syncUrl: string): Promise<Client> {
  const { url, authToken, syncIntervalSeconds } = options;
  if (localFilePathOf(url) === undefined) {
    throw new StoreOpenError(url, `an embedded replica (syncUrl ${redactUrl(syncUrl)}) needs a file: URL of a file on disk`);
  }
  let client: Client;
  try {
    client = createClient({
      url,
      syncUrl,
      ...(authToken === undefined ? {} : { authToken }),
      ...(syncIntervalSeconds === undefined ? {} : { syncInterval: syncIntervalSeconds }),
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (error) {
    throw new StoreOpenError(url, explainOpenFailure(error), { cause: error });
  }
  try {
    await client.sync();
  } catch (error) {
    client.close();
    throw new StoreOpenError(url, `cannot sync the embedded replica from ${redactUrl(syncUrl)}: ${explainOpenFailure(error)}`, { cause: error });
  }
  return client;
}

/**
 * Where the writer of a log commits: the database itself, or for an embedded replica the server it
 * follows. A log's sequencer must read the log as it is, not as the replica last saw it.
 */
export function primaryDatabase(options: DatabaseOptions): DatabaseOptions {
  const { syncUrl, authToken } = options;
  return syncUrl === undefined ? options : { url: syncUrl, authToken };
}

/** A database in this process (libsql accepts a bare ':memory:' as one too). */
export function isFileUrl(url: string): boolean {
  return url.startsWith('file:') || url === ':memory:';
}

/**
 * The path of the database file a `file:` URL names (`file:/abs/x.db`, `file:///abs/x.db`,
 * `file:rel.db`, query parameters dropped, as @libsql/client reads them); undefined for in-memory
 * and remote databases.
 */
export function localFilePathOf(url: string): string | undefined {
  if (!url.startsWith('file:') || isInMemoryUrl(url)) return undefined;
  const withoutQuery = url.slice('file:'.length).replace(/[?#].*$/, '');
  const path = withoutQuery.startsWith('//') ? withoutQuery.replace(/^\/\/(localhost)?/i, '') : withoutQuery;
  return decodeURIComponent(path);
}

/** An in-memory database lives in its one connection: a second connection is another database. */
export function isInMemoryUrl(url: string): boolean {
  return url === ':memory:' || /^file:(\/\/)?:memory:/.test(url) || (isFileUrl(url) && /[?&]mode=memory\b/.test(url));
}

/** Error messages and `Store.url` end up in logs; an auth token in the URL must not. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]authToken=)[^&#]*/gi, '$1[redacted]');
}

/**
 * WAL with synchronous=FULL: a commit is on disk before append() resolves, so a checkpoint signed
 * after it can never cover a row that a power loss rolls back.
 */
async function makeDurable(client: Client): Promise<void> {
  const journal = await client.execute('PRAGMA journal_mode = WAL');
  const mode = String(journal.rows[0]?.['journal_mode'] ?? '');
  // An in-memory database reports 'memory'; it is for tests and has nothing to lose.
  if (mode !== 'wal' && mode !== 'memory') {
    throw new Error(`the database refused write-ahead logging (journal_mode is "${mode}")`);
  }
  await client.execute('PRAGMA synchronous = FULL');
}

export function explainOpenFailure(error: unknown): string {
  const message = databaseErrorMessage(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'SQLITE_NOTADB') {
    return `${message} (the file exists but is not a SQLite/libSQL database)`;
  }
  if (code === 'SQLITE_CANTOPEN' || /unable to open/i.test(message)) {
    return `${message} (check that the directory exists and is writable)`;
  }
  if (/\b401\b|unauthori[sz]ed/i.test(message)) {
    return `${message} (the server wants a valid token: set AGENTTRAIL_DB_AUTH_TOKEN)`;
  }
  return message;
}
