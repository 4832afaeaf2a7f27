import type { Client, InStatement } from '@libsql/client';
import { z } from 'zod';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { formatCheckpoint } from '../ledger/checkpoint.js';
import { EntryDraftSchema } from '../ledger/entry.js';
import type { Entry, EntryDraft } from '../ledger/entry.js';
import { leafHash } from '../ledger/merkle-hash.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { signNote } from '../ledger/signed-note.js';
import type { TileFrontier } from '../ledger/tile-frontier.js';
import { insertCheckpoint, readLatestCheckpointSize } from './checkpoint-queries.js';
import type { StoredCheckpoint } from './checkpoint-queries.js';
import { databaseErrorMessage } from './database-error-message.js';
import { readStoredLeaves } from './entry-queries.js';
import { foreignSignerReason } from './signer-continuity.js';
import { RunningCalls } from './running-calls.js';
import type { CommitLinger } from './running-calls.js';
import { readFrontier, writeTile } from './tile-queries.js';

/**
 * The single writer of one log. Each entry goes through the life cycle of a transparency log:
 * sequenced (given the next index), integrated (a leaf of the Merkle tree, its tiles updated) and
 * checkpointed (covered by a signed checkpoint), all in the one transaction that makes it durable.
 */
export interface EntryAppender {
  readonly log: string;
  /**
   * Resolves once the entry is committed and covered by a signed checkpoint, with the index it was
   * given. Rejects with an AuditLogWriteError when it could not be written; the caller must then
   * treat the action as unrecorded (refuse it when failing closed).
   */
  append(draft: EntryDraft): Promise<Entry>;
  stats(): AppenderStats;
  /** Waits for every queued entry to be written (or rejected), then refuses further appends. */
  close(): Promise<void>;
}

export interface AppenderStats {
  /** Committed transactions (group commits). */
  readonly flushes: number;
  /** Transactions that failed and were rolled back. */
  readonly failedFlushes: number;
  /** Entries committed by this appender. */
  readonly appended: number;
  /** The number of entries in the log as this writer knows it: the next index to give out. */
  readonly size: number;
}

/** Every failure to make an entry durable has this message prefix, so callers and users can tell. */
export class AuditLogWriteError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`audit log write failed: ${reason}`, options);
    this.name = 'AuditLogWriteError';
  }
}

/** A log name is the checkpoint origin line, so it follows C2SP's rules for one. */
export const LogNameSchema = z
  .string()
  .min(1, 'a log name cannot be empty')
  .regex(/^[^\s+]+$/, 'a log name (checkpoint origin) cannot contain spaces or "+"');

// Keeps one transaction (and, for remote databases, one request) to a sensible size under load.
const MAX_ENTRIES_PER_FLUSH = 1000;
// Each retry follows another writer's commit; more in a row means something else is wrong.
const MAX_ATTEMPTS_AGAINST_OTHER_WRITERS = 5;

/** An appender's connection to the database. */
export interface WriterDatabase {
  /** Reads the log's state when the writer opens or recovers. */
  readonly client: Client;
  /** Runs the statements in one write transaction. */
  write(statements: InStatement[]): Promise<void>;
  /** May resolve later than it returns, once the connection is really closed. */
  close(): void | Promise<void>;
}

/**
 * Where an appender writes. After a failed write a `file:` connection can be left unable to commit
 * (@libsql/client 0.18 keeps the failed statement open until garbage collection:
 * tursodatabase/libsql-client-ts#352), so the appender closes it and opens a fresh one.
 */
export interface WriterConnection {
  open(): Promise<WriterDatabase>;
  /** False when the connection is shared and must be kept (an in-memory database). */
  readonly replaceable: boolean;
}

/** A writer that commits through @libsql/client (remote databases; in-memory ones). */
export function clientWriter(client: Client): WriterDatabase {
  return {
    client,
    write: async (statements) => {
      await client.batch(statements, 'write');
    },
    close: () => client.close(),
  };
}

/** Told about each checkpoint once it is durable, e.g. to send it to witnesses. Must not throw. */
export type CheckpointListener = (checkpoint: { readonly size: number; readonly note: string }) => void;

/**
 * Resolves once the other callbacks of this turn of the runtime's event loop have run (Node's
 * setImmediate). An appender waits for it before it takes a batch, so that the appends made by those
 * callbacks (requests and upstream answers that arrived together, or together with the previous
 * commit's completion) share the commit instead of waiting for the next one: under load, fewer and
 * larger commits, each with one signature and one fsync. The default waits for the current task only.
 */
export type EndOfTurn = () => Promise<void>;

const END_OF_TASK: EndOfTurn = () => Promise.resolve();

/** How an appender batches, and whom it tells about its checkpoints. */
export interface AppenderOptions {
  readonly onCheckpoint?: CheckpointListener | undefined;
  readonly endOfTurn?: EndOfTurn | undefined;
  /** How long a commit may wait for the results of calls running upstream (RunningCalls). */
  readonly linger?: CommitLinger | undefined;
}

export async function createEntryAppender(
  connection: WriterConnection,
  log: string,
  signer: NoteSigner,
  options: AppenderOptions = {},
): Promise<EntryAppender> {
  const parsed = LogNameSchema.safeParse(log);
  if (!parsed.success) {
    throw new Error(`invalid log name ${JSON.stringify(log)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const name = parsed.data;
  const database = await connection.open();
  try {
    return new GroupCommitAppender(connection, database, name, signer, options, await integrateLog(database.client, name, signer));
  } catch (error) {
    if (connection.replaceable) await database.close();
    throw error;
  }
}

interface QueuedAppend {
  readonly draft: EntryDraft;
  readonly resolve: (entry: Entry) => void;
  readonly reject: (error: Error) => void;
}

interface SequencedEntry {
  readonly queued: QueuedAppend;
  readonly entry: Entry;
  readonly body: Uint8Array;
}

/**
 * Group commit: appends queue up while a transaction is in flight and the next transaction takes
 * all of them (and those made until the end of the event loop's turn, and the results of calls that
 * have just gone upstream: RunningCalls), so N concurrent appends cost about one commit and one
 * signature each round rather than N.
 */
class GroupCommitAppender implements EntryAppender {
  readonly log: string;
  readonly #connection: WriterConnection;
  readonly #signer: NoteSigner;
  readonly #onCheckpoint: CheckpointListener;
  readonly #endOfTurn: EndOfTurn;
  readonly #running: RunningCalls;
  #database: WriterDatabase | null;
  #tree: TileFrontier;
  #queue: QueuedAppend[] = [];
  #draining: Promise<void> | null = null;
  #closed = false;
  // After a failed commit the connection may be unusable, and we cannot be sure the commit did not
  // land (a remote reply can be lost), so the next flush reconnects and reads the size again.
  #recovering = false;
  #flushes = 0;
  #failedFlushes = 0;
  #appended = 0;

  constructor(
    connection: WriterConnection,
    database: WriterDatabase,
    log: string,
    signer: NoteSigner,
    options: AppenderOptions,
    tree: TileFrontier,
  ) {
    this.#connection = connection;
    this.#database = database;
    this.log = log;
    this.#signer = signer;
    this.#onCheckpoint = options.onCheckpoint ?? (() => {});
    this.#endOfTurn = options.endOfTurn ?? END_OF_TASK;
    this.#running = new RunningCalls(options.linger);
    this.#tree = tree;
  }

  append(draft: EntryDraft): Promise<Entry> {
    if (this.#closed) {
      return Promise.reject(new AuditLogWriteError(`the writer of log "${this.log}" is closed`));
    }
    const parsed = EntryDraftSchema.safeParse(draft);
    if (!parsed.success) {
      return Promise.reject(new AuditLogWriteError(`invalid entry: ${z.prettifyError(parsed.error)}`));
    }
    return new Promise<Entry>((resolve, reject) => {
      this.#queue.push({ draft: parsed.data, resolve, reject });
      this.#running.queued(parsed.data);
      this.#draining ??= this.#drain();
    });
  }

  stats(): AppenderStats {
    return {
      flushes: this.#flushes,
      failedFlushes: this.#failedFlushes,
      appended: this.#appended,
      size: this.#tree.size,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
    if (this.#connection.replaceable) await this.#database?.close();
    this.#database = null;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#endOfTurn();
        await this.#running.linger();
        await this.#flush(this.#queue.splice(0, MAX_ENTRIES_PER_FLUSH));
      }
    } finally {
      this.#draining = null;
    }
  }

  /**
   * Writes one batch in one transaction. Never throws: every queued append is settled. Another
   * process may append to the same log between two batches (the agents command records its changes
   * while the gateway runs); the batch then conflicts on an index, and is sequenced again after the
   * other writer's entries.
   */
  async #flush(batch: QueuedAppend[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#tryFlush(batch);
      if (outcome.done) return;
      this.#recovering = true;
      if (attempt === MAX_ATTEMPTS_AGAINST_OTHER_WRITERS) {
        rejectAll(batch, outcome.failure);
        return;
      }
    }
  }

  /** One attempt; `done: false` when the only trouble was another writer of the log. */
  async #tryFlush(batch: QueuedAppend[]): Promise<{ done: true } | { done: false; failure: AuditLogWriteError }> {
    let database: WriterDatabase;
    try {
      database = await this.#usableDatabase();
    } catch (error) {
      this.#failedFlushes++;
      rejectAll(batch, new AuditLogWriteError(describeDatabaseError(error, this.log), { cause: error }));
      return { done: true };
    }

    const sequenced = this.#sequence(batch);
    if (sequenced.length === 0) return { done: true };
    let commit: { statements: InStatement[]; tree: TileFrontier; note: string };
    try {
      commit = this.#integrateAndCheckpoint(sequenced);
    } catch (error) {
      this.#failedFlushes++;
      rejectAll(
        sequenced.map((s) => s.queued),
        new AuditLogWriteError(`cannot sign the checkpoint of log "${this.log}": ${messageOf(error)}`, { cause: error }),
      );
      return { done: true };
    }
    try {
      await database.write(commit.statements);
    } catch (error) {
      this.#failedFlushes++;
      this.#recovering = true;
      const failure = new AuditLogWriteError(describeDatabaseError(error, this.log), { cause: error });
      if (isIndexConflict(error)) return { done: false, failure };
      rejectAll(
        sequenced.map((s) => s.queued),
        failure,
      );
      return { done: true };
    }
    // Only a committed batch moves the tree, so a failed one leaves no gap in the indexes.
    this.#tree = commit.tree;
    this.#flushes++;
    this.#appended += sequenced.length;
    this.#running.committed(sequenced.map((s) => s.entry));
    for (const s of sequenced) s.queued.resolve(s.entry);
    this.#onCheckpoint({ size: commit.tree.size, note: commit.note });
    return { done: true };
  }

  /** The statements of one commit: the entries, the tiles they changed, the signed checkpoint. */
  #integrateAndCheckpoint(sequenced: readonly SequencedEntry[]): { statements: InStatement[]; tree: TileFrontier; note: string } {
    const { frontier, changed } = this.#tree.append(sequenced.map((s) => leafHash(s.body)));
    const checkpoint = signedCheckpoint(this.log, frontier, this.#signer);
    return {
      statements: [
        ...insertEntries(this.log, sequenced),
        ...changed.map((tile) => writeTile(this.log, tile)),
        insertCheckpoint(checkpoint),
      ],
      tree: frontier,
      note: checkpoint.note,
    };
  }

  async #usableDatabase(): Promise<WriterDatabase> {
    if (this.#database !== null && !this.#recovering) return this.#database;
    if (this.#connection.replaceable) {
      await this.#database?.close();
      this.#database = null;
      this.#database = await this.#connection.open();
    }
    const database = this.#database;
    if (database === null) throw new Error(`the writer of log "${this.log}" has no database connection`);
    this.#tree = await integrateLog(database.client, this.log, this.#signer);
    this.#recovering = false;
    return database;
  }

  /** Gives indexes in queue order; an entry that cannot be encoded is rejected on its own. */
  #sequence(batch: QueuedAppend[]): SequencedEntry[] {
    const sequenced: SequencedEntry[] = [];
    for (const queued of batch) {
      const entry: Entry = { ...queued.draft, index: this.#tree.size + sequenced.length };
      try {
        sequenced.push({ queued, entry, body: canonicalBytes(entry) });
      } catch (error) {
        queued.reject(new AuditLogWriteError(messageOf(error), { cause: error }));
      }
    }
    return sequenced;
  }
}

/**
 * Loads the tree's right edge as of the latest checkpoint, then integrates and checkpoints any
 * entries stored after it (a log written before the tree existed). Refuses a log whose checkpoint
 * covers entries that are no longer stored: appending to it would hide the loss. Refuses a signer
 * that is not the log's (see foreignSignerReason).
 */
async function integrateLog(client: Client, log: string, signer: NoteSigner): Promise<TileFrontier> {
  const foreignSigner = await foreignSignerReason(client, log, signer);
  if (foreignSigner !== undefined) throw new AuditLogWriteError(foreignSigner);
  const checkpointed = await readLatestCheckpointSize(client, log);
  const { count, end: stored } = await readStoredExtent(client, log);
  const restore = 'run `agenttrail verify` and restore the database from a backup before writing to it';
  if (stored < checkpointed) {
    throw new AuditLogWriteError(
      `log "${log}" has a signed checkpoint for ${checkpointed} entries but only ${stored} are stored; entries were removed: ${restore}`,
    );
  }
  // A hole below the end would be skipped by the tree (and taken by the next index): refuse it too.
  if (count < stored) {
    throw new AuditLogWriteError(
      `log "${log}" stores ${count} entries with indexes up to ${stored - 1}; ${stored - count} entries were removed: ${restore}`,
    );
  }
  let tree = await readFrontier(client, log, checkpointed);
  if (stored === checkpointed) return tree;
  const changed = new Map<string, InStatement>();
  for await (const page of readStoredLeaves(client, log, { from: checkpointed, to: stored })) {
    const step = tree.append(page.map((row) => leafHash(row.body)));
    tree = step.frontier;
    for (const tile of step.changed) changed.set(`${tile.level}/${tile.index}`, writeTile(log, tile));
  }
  await client.batch([...changed.values(), insertCheckpoint(signedCheckpoint(log, tree, signer))], 'write');
  return tree;
}

function signedCheckpoint(log: string, tree: TileFrontier, signer: NoteSigner): StoredCheckpoint {
  const root = tree.root();
  const note = signNote(formatCheckpoint({ origin: log, size: tree.size, root, extensions: [] }), [signer]);
  return { log, size: tree.size, root, key: signer.verifierKey, note };
}

// Rows per INSERT: one statement for many rows saves preparing and running one per entry (about a
// third of the cost of a commit), while 9 × 400 parameters stay far below SQLite's limit of 32,766.
const ROWS_PER_INSERT = 400;

function insertEntries(log: string, sequenced: readonly SequencedEntry[]): InStatement[] {
  const statements: InStatement[] = [];
  for (let start = 0; start < sequenced.length; start += ROWS_PER_INSERT) {
    const rows = sequenced.slice(start, start + ROWS_PER_INSERT);
    statements.push({
      sql: `INSERT INTO entries (log, idx, time, kind, session, server, tool, call, body)
            VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      args: rows.flatMap(({ entry, body }) => [
        log,
        entry.index,
        entry.time,
        entry.kind,
        entry.session,
        entry.server ?? null,
        entry.tool ?? null,
        entry.call ?? null,
        body,
      ]),
    });
  }
  return statements;
}

/** How many entries of the log are stored, and the index after the last one: equal unless some were removed. */
async function readStoredExtent(client: Client, log: string): Promise<{ count: number; end: number }> {
  const result = await client.execute({
    sql: 'SELECT COUNT(*) AS count, COALESCE(MAX(idx) + 1, 0) AS end FROM entries WHERE log = ?',
    args: [log],
  });
  const row = result.rows[0];
  return { count: Number(row?.['count'] ?? 0), end: Number(row?.['end'] ?? 0) };
}

function rejectAll(batch: readonly QueuedAppend[], error: Error): void {
  for (const queued of batch) queued.reject(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Another writer took the indexes (or the checkpoint size) this batch was given. A local file says
 * so by its extended code; a server (sqld, Turso) says only SQLITE_CONSTRAINT and names the key,
 * and an embedded replica passes the server's message on with no code at all.
 */
function isIndexConflict(error: unknown): boolean {
  const codes =
    typeof error === 'object' && error !== null
      ? [(error as { code?: unknown }).code, (error as { extendedCode?: unknown }).extendedCode]
      : [];
  return codes.includes('SQLITE_CONSTRAINT_PRIMARYKEY') || /UNIQUE constraint failed: (entries\.log, entries\.idx|checkpoints\.log, checkpoints\.size)\b/.test(messageOf(error));
}

function describeDatabaseError(error: unknown, log: string): string {
  const message = databaseErrorMessage(error);
  if (isIndexConflict(error)) {
    return `${message} (other writers kept appending to log "${log}" at the same indexes; give each gateway instance its own log origin)`;
  }
  return message;
}
