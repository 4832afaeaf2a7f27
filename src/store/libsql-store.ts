import type { Client, InStatement } from '@libsql/client';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Entry } from '../ledger/entry.js';
import { connectDatabase, DEFAULT_BUSY_TIMEOUT_MS, explainOpenFailure, isInMemoryUrl, localFilePathOf, primaryDatabase, redactUrl, StoreOpenError } from './database-connection.js';
import type { DatabaseOptions } from './database-connection.js';
import { clientWriter, createEntryAppender } from './entry-appender.js';
import type { CheckpointListener, EndOfTurn, EntryAppender, WriterConnection } from './entry-appender.js';
import { writeCosignature } from './cosignature-queries.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { readCheckpoint, readCheckpoints } from './checkpoint-queries.js';
import type { CosignedCheckpoint, StoredCheckpoint } from './checkpoint-queries.js';
import { findColumnMismatch, queryEntries, queryLogNames, readEntryTime, readLeavesOfKinds, readSessionLeaves, readStoredLeaves } from './entry-queries.js';
import type { ColumnMismatch, EntryQuery, StoredLeaf, StoredLeafOfKind } from './entry-queries.js';
import type { Principal } from '../auth/principal.js';
import { readRevokedCredentialNames } from './credential-queries.js';
import { findPrincipalByTokenHash, PRINCIPAL_BY_HEX_TOKEN_HASH, principalFromRow } from './principal-queries.js';
import { applyMigrations, requireLedgerSchema } from './migrations.js';
import { proveConsistency, proveInclusion } from './proof-queries.js';
import { readStoredTiles, readTopTileLevel } from './tile-queries.js';
import type { StoredTile } from './tile-queries.js';
import type { CommitLinger } from './running-calls.js';

export interface StoreOptions extends DatabaseOptions {
  /** Only read: never create tables or migrate (for verify and export, which must change nothing). */
  readOnly?: boolean | undefined;
  /** How long a commit may wait for the results of calls running upstream (see RunningCalls). */
  commitLinger?: CommitLinger | undefined;
}

// An export holds a page of entries and their bundle lines (about 1.5 KB each) at a time.
const EXPORT_PAGE_SIZE = 1000;

/** What a verifier reads: every stored row of a log, in order, a page at a time. */
export interface LogRows {
  entryRows(log: string): AsyncIterable<StoredLeaf[]>;
  entryTime(log: string, index: number): Promise<string | null>;
  /** The entries of one kind; only those with index in [from, to) when a range is given. */
  entriesOfKind(log: string, kind: string, range?: { from: number; to: number }): Promise<StoredLeaf[]>;
  /** The entries of any of the given kinds, in one scan of the log, each with its kind. */
  entriesOfKinds(log: string, kinds: readonly string[]): Promise<StoredLeafOfKind[]>;
  findColumnMismatch(log: string): Promise<ColumnMismatch | undefined>;
  checkpointRows(log: string): AsyncIterable<CosignedCheckpoint[]>;
  /** The tiles of one tile level (0 holds the leaf hashes) in index order. */
  tileRows(log: string, level: number): AsyncIterable<StoredTile[]>;
  /** The highest tile level stored for the log; -1 when there is none. */
  topTileLevel(log: string): Promise<number>;
}

/** The audit database: one writer per log, plus the read side reviewers and verifiers use. */
export interface Store extends LogRows {
  /** The database URL, with any auth token redacted. */
  readonly url: string;
  /**
   * The writer of a log (a checkpoint origin), signing its checkpoints with `signer`. The same
   * appender is returned for the same log.
   */
  appender(log: string, signer: NoteSigner, onCheckpoint?: CheckpointListener): Promise<EntryAppender>;
  /** Keeps a witness's cosignature lines on the log's checkpoint at `size`. */
  addCosignature(log: string, size: number, witness: string, lines: readonly string[]): Promise<void>;
  entries(log: string, query?: EntryQuery): Promise<Entry[]>;
  /** The names of the logs in the database. */
  logs(): Promise<string[]>;
  /** The checkpoint of the log at exactly `size` entries, or its latest when size is omitted. */
  checkpoint(log: string, size?: number): Promise<StoredCheckpoint | undefined>;
  /**
   * The stored bodies of the entries below index `before` (only the session's, when given), in
   * index order, a page at a time: what an export streams.
   */
  leavesBefore(log: string, before: number, session?: string): AsyncIterable<StoredLeaf[]>;
  inclusionProof(log: string, index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(log: string, size1: number, size2: number): Promise<Uint8Array[]>;
  /** The principal (agent, reviewer, approver, admin, ingest) whose token hashes to `tokenHash`, as stored now. */
  principalByTokenHash(tokenHash: Uint8Array): Promise<Principal | undefined>;
  /** The names of the credentials revoked (agenttrail credentials revoke), as stored now. */
  revokedCredentials(): Promise<string[]>;
  /** Waits for queued appends, then closes the database. */
  close(): Promise<void>;
}

/** A query with positional arguments. */
export interface BackgroundQuery {
  readonly sql: string;
  readonly args: readonly (string | number)[];
}

/** Reads a local database file through the native driver, faster than @libsql/client (local-file-reader.ts). */
export interface LocalFileReading {
  entryPages(log: string): AsyncIterable<StoredLeaf[]>;
  lookup(sql: string): (...args: (string | number)[]) => Record<string, unknown> | undefined;
  firstRow(statement: BackgroundQuery): Promise<Record<string, unknown> | undefined>;
  allRows(statement: BackgroundQuery): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** Commits to a local database file off the event loop (local-file-writer.ts). */
export interface LocalFileWriting {
  write(statements: readonly InStatement[]): Promise<void>;
  /** Resolves once the file is closed. */
  close(): Promise<void>;
}

/**
 * The native driver's direct access to `file:` databases, which only Node has (open-store.ts).
 * Without it a store reads and writes every database through @libsql/client, as a Worker does.
 */
export interface LocalFileAccess {
  reader(path: string): LocalFileReading;
  writer(path: string, busyTimeoutMs: number): Promise<LocalFileWriting>;
}

/** What a runtime gives a store beyond @libsql/client (open-store.ts: Node's). */
export interface StoreRuntime {
  /** Direct access to local database files, where the runtime has it. */
  readonly files?: LocalFileAccess;
  /** See EndOfTurn: how long an appender gathers appends before it commits them. */
  readonly endOfTurn?: EndOfTurn;
}

/** Opens (creating if needed) and migrates the audit database; throws StoreOpenError. */
export async function openLibsqlStore(options: StoreOptions, runtime: StoreRuntime = {}): Promise<Store> {
  const client = await connectDatabase(options);
  try {
    await (options.readOnly === true ? requireLedgerSchema(client) : applyMigrations(client));
  } catch (error) {
    client.close();
    throw new StoreOpenError(options.url, explainOpenFailure(error), { cause: error });
  }
  return new LibsqlStore(client, options, runtime);
}

class LibsqlStore implements Store {
  readonly url: string;
  readonly #client: Client;
  readonly #options: StoreOptions;
  readonly #files: LocalFileAccess | undefined;
  readonly #endOfTurn: EndOfTurn | undefined;
  readonly #appenders = new Map<string, Promise<EntryAppender>>();
  #localReader: LocalFileReading | undefined | null = null;
  #localWriter: Promise<LocalFileWriting> | undefined;
  #principalLookup: ((tokenHashHex: string) => Record<string, unknown> | undefined) | undefined;

  constructor(client: Client, options: StoreOptions, runtime: StoreRuntime) {
    this.#client = client;
    this.#options = options;
    this.#files = runtime.files;
    this.#endOfTurn = runtime.endOfTurn;
    this.url = redactUrl(options.url);
  }

  appender(log: string, signer: NoteSigner, onCheckpoint?: CheckpointListener): Promise<EntryAppender> {
    let appender = this.#appenders.get(log);
    if (appender === undefined) {
      appender = createEntryAppender(this.#writerConnection(), log, signer, {
        onCheckpoint,
        endOfTurn: this.#endOfTurn,
        linger: this.#options.commitLinger,
      });
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

  addCosignature(log: string, size: number, witness: string, lines: readonly string[]): Promise<void> {
    return this.#write(writeCosignature(log, size, witness, lines));
  }

  checkpoint(log: string, size?: number): Promise<StoredCheckpoint | undefined> {
    return readCheckpoint(this.#client, log, size);
  }

  leavesBefore(log: string, before: number, session?: string): AsyncIterable<StoredLeaf[]> {
    return session === undefined
      ? readStoredLeaves(this.#client, log, { from: 0, to: before }, EXPORT_PAGE_SIZE)
      : readSessionLeaves(this.#client, log, session, before, EXPORT_PAGE_SIZE);
  }

  inclusionProof(log: string, index: number, size: number): Promise<Uint8Array[]> {
    return proveInclusion(this.#client, log, index, size);
  }

  consistencyProof(log: string, size1: number, size2: number): Promise<Uint8Array[]> {
    return proveConsistency(this.#client, log, size1, size2);
  }

  entryRows(log: string): AsyncIterable<StoredLeaf[]> {
    return this.#fileReader()?.entryPages(log) ?? readStoredLeaves(this.#client, log, { from: 0 });
  }

  entryTime(log: string, index: number): Promise<string | null> {
    return readEntryTime(this.#client, log, index);
  }

  entriesOfKind(log: string, kind: string, range?: { from: number; to: number }): Promise<StoredLeaf[]> {
    return range === undefined ? this.entriesOfKinds(log, [kind]) : readLeavesOfKinds(this.#client, log, [kind], range);
  }

  entriesOfKinds(log: string, kinds: readonly string[]): Promise<StoredLeafOfKind[]> {
    const reader = this.#fileReader();
    return reader === undefined
      ? readLeavesOfKinds(this.#client, log, kinds)
      : readLeavesOfKinds(this.#client, log, kinds, undefined, (query) => reader.allRows(query));
  }

  findColumnMismatch(log: string): Promise<ColumnMismatch | undefined> {
    const reader = this.#fileReader();
    return reader === undefined ? findColumnMismatch(this.#client, log) : findColumnMismatch(this.#client, log, (scan) => reader.firstRow(scan));
  }

  checkpointRows(log: string): AsyncIterable<CosignedCheckpoint[]> {
    return readCheckpoints(this.#client, log);
  }

  tileRows(log: string, level: number): AsyncIterable<StoredTile[]> {
    return readStoredTiles(this.#client, log, level);
  }

  topTileLevel(log: string): Promise<number> {
    return readTopTileLevel(this.#client, log);
  }

  async principalByTokenHash(tokenHash: Uint8Array): Promise<Principal | undefined> {
    const reader = this.#fileReader();
    if (reader === undefined) return findPrincipalByTokenHash(this.#client, tokenHash);
    this.#principalLookup ??= reader.lookup(PRINCIPAL_BY_HEX_TOKEN_HASH);
    return principalFromRow(this.#principalLookup(bytesToHex(tokenHash)));
  }

  revokedCredentials(): Promise<string[]> {
    return readRevokedCredentialNames(this.#client);
  }

  async close(): Promise<void> {
    const appenders = await Promise.allSettled(this.#appenders.values());
    await Promise.all(appenders.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
    this.#localReader?.close();
    await (await this.#localWriter?.catch(() => undefined))?.close();
    this.#client.close();
  }

  /**
   * A write besides the appenders' (a witness's cosignature). On a local file it goes through the
   * driver's thread too: a write on the event loop would wait there for an appender's transaction,
   * whose next step needs the event loop, until the busy timeout ends the standoff.
   */
  async #write(statement: InStatement): Promise<void> {
    const path = this.#localFile();
    if (path === undefined || this.#files === undefined) {
      await this.#client.execute(statement);
      return;
    }
    this.#localWriter ??= this.#files.writer(path, this.#options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    this.#localWriter.catch(() => (this.#localWriter = undefined));
    await (await this.#localWriter).write([statement]);
  }

  /** Opened on first use: only verifying reads whole logs. */
  #fileReader(): LocalFileReading | undefined {
    if (this.#localReader === null) {
      const path = this.#localFile();
      this.#localReader = path === undefined ? undefined : this.#files?.reader(path);
    }
    return this.#localReader;
  }

  /**
   * The file that the driver may read and write directly, where the runtime has it (`files`). Not
   * an embedded replica's: its changes come through its sync, and writes to it belong on the server.
   */
  #localFile(): string | undefined {
    return this.#options.syncUrl === undefined ? localFilePathOf(this.#options.url) : undefined;
  }

  /**
   * Each writer gets a connection of its own, so that replacing it after a failed write (see
   * WriterConnection) cannot disturb readers. An in-memory database has only the one. The writer
   * of an embedded replica commits on the server.
   */
  #writerConnection(): WriterConnection {
    if (isInMemoryUrl(this.#options.url)) {
      const shared = clientWriter(this.#client);
      return { open: () => Promise.resolve(shared), replaceable: false };
    }
    const path = this.#localFile();
    const files = this.#files;
    const options = primaryDatabase(this.#options);
    return {
      open: async () => {
        const client = await connectDatabase(options);
        if (path === undefined || files === undefined) return clientWriter(client);
        try {
          const writer = await files.writer(path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
          const close = async (): Promise<void> => {
            client.close();
            await writer.close();
          };
          return { client, write: (statements) => writer.write(statements), close };
        } catch (error) {
          client.close();
          throw new StoreOpenError(options.url, explainOpenFailure(error), { cause: error });
        }
      },
      replaceable: true,
    };
  }
}
