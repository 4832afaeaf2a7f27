import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';

export interface DatabaseOptions {
  /** `file:/abs/path.db`, `http(s)://`, `libsql://`, `ws(s)://`; `file:` paths are best absolute. */
  url: string;
  authToken?: string | undefined;
  /**
   * How long a write waits for another process's lock on a `file:` database before it fails.
   * Default 5000.
   */
  busyTimeoutMs?: number | undefined;
}

/** The database could not be opened or prepared; the message names the URL and what to check. */
export class StoreOpenError extends Error {
  constructor(url: string, reason: string, options?: ErrorOptions) {
    super(`cannot open audit database ${redactUrl(url)}: ${reason}`, options);
    this.name = 'StoreOpenError';
  }
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Opens one client on the audit database, made durable; throws StoreOpenError. */
export async function connectDatabase(options: DatabaseOptions): Promise<Client> {
  const { url, authToken } = options;
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
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'SQLITE_NOTADB') {
    return `${message} (the file exists but is not a SQLite/libSQL database)`;
  }
  if (code === 'SQLITE_CANTOPEN' || /unable to open/i.test(message)) {
    return `${message} (check that the directory exists and is writable)`;
  }
  return message;
}
