import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { InStatement, InValue } from '@libsql/client';
import type { LocalFileWriting } from './libsql-store.js';

/** A write transaction as the thread receives it: positional arguments only. */
interface WriteRequest {
  readonly id: number;
  readonly statements: readonly { readonly sql: string; readonly args: readonly InValue[] }[];
}

/** What the driver said when it failed, with the codes callers tell failures apart by. */
interface DriverFailure {
  readonly message: string;
  readonly code?: string;
  readonly rawCode?: number;
}

type ThreadMessage = { readonly opened: true } | { readonly opened: false; readonly failure: DriverFailure } | { readonly id: number; readonly failure?: DriverFailure };

// The thread's whole program, evaluated rather than loaded from a file so that it runs the same
// from dist/ and under the test runner (which has no .js file to point at).
//
// It uses the driver's synchronous API: a transaction is then one message each way, where the
// async API costs the main thread a round trip per statement (BEGIN, each INSERT, COMMIT), each
// about as dear as the statement itself. That API cannot bind a BLOB (it panics), so a BLOB goes in
// as hex through unhex(?) (multi-row statements come in as many shapes as batch sizes: the common
// ones stay prepared). The placeholders of our statements are plain `?`, and SQL with quoted
// text is refused rather than rewritten wrongly.
const THREAD_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const describe = (error) => ({ message: error && error.message !== undefined ? String(error.message) : String(error), code: error && error.code, rawCode: error && error.rawCode });
let database;
try {
  database = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
  // The journal mode is the file's (set by the first connection); synchronous is per connection.
  database.exec('PRAGMA synchronous = FULL');
  parentPort.postMessage({ opened: true });
} catch (error) {
  parentPort.postMessage({ opened: false, failure: describe(error) });
  process.exit(0);
}
const prepared = new Map();
const statementFor = (sql, args) => {
  const shapes = args.map(shapeOf);
  const key = shapes.join('') + sql;
  let statement = prepared.get(key);
  if (statement === undefined) {
    if (/['"\`]|\\?[0-9:@$]/.test(sql)) throw new Error('the audit log writer cannot bind this statement: it has quoted text or numbered parameters');
    let position = 0;
    const text = sql.replace(/\\?/g, () => PLACEHOLDERS[shapes[position++]]);
    if (prepared.size >= 64) prepared.delete(prepared.keys().next().value);
    statement = database.prepare(text);
    prepared.set(key, statement);
  }
  return statement;
};
// Whole numbers go in as INTEGER (the API would bind every number as REAL). BLOBs, and text with a
// NUL in it (which the API would cut short there), go in as hex.
const shapeOf = (arg) => (arg instanceof Uint8Array ? 'b' : typeof arg === 'string' && arg.includes('\\0') ? 't' : '-');
const PLACEHOLDERS = { b: 'unhex(?)', t: 'CAST(unhex(?) AS TEXT)', '-': '?' };
const bindable = (arg) =>
  typeof arg === 'number' && Number.isSafeInteger(arg) ? BigInt(arg)
  : arg instanceof Uint8Array ? Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString('hex')
  : typeof arg === 'string' && arg.includes('\\0') ? Buffer.from(arg, 'utf8').toString('hex')
  : arg;
parentPort.on('message', (request) => {
  if (request === 'close') {
    database.close();
    process.exit(0);
  }
  try {
    database.exec('BEGIN IMMEDIATE');
    try {
      for (const { sql, args } of request.statements) statementFor(sql, args).run(args.map(bindable));
      database.exec('COMMIT');
    } catch (error) {
      try { database.exec('ROLLBACK'); } catch {}
      throw error;
    }
    parentPort.postMessage({ id: request.id });
  } catch (error) {
    parentPort.postMessage({ id: request.id, failure: describe(error) });
  }
});
`;

/** A failure the driver reported, with its SQLite code (e.g. SQLITE_FULL) as @libsql/client gives it. */
export class FileWriteError extends Error {
  readonly code: string | undefined;
  readonly rawCode: number | undefined;

  constructor(failure: DriverFailure) {
    super(failure.message);
    this.name = 'SqliteError';
    this.code = failure.code;
    this.rawCode = failure.rawCode;
  }
}

interface PendingWrite {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Commits to a local database file on a thread of its own. The event loop goes on reading
 * requests while a transaction is written and fsync'd (they then share the next commit), and each
 * commit costs it one message each way.
 */
export class LocalFileWriter implements LocalFileWriting {
  readonly #thread: Worker;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, PendingWrite>();
  #nextId = 0;
  #stopped: Error | undefined;

  private constructor(thread: Worker) {
    this.#thread = thread;
    this.#exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('message', (message: ThreadMessage) => {
      if (!('id' in message)) return;
      const write = this.#pending.get(message.id);
      if (write === undefined) return;
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) thread.unref();
      if (message.failure === undefined) write.resolve();
      else write.reject(new FileWriteError(message.failure));
    });
    const stop = (error: Error): void => {
      this.#stopped ??= error;
      for (const write of this.#pending.values()) write.reject(error);
      this.#pending.clear();
    };
    thread.on('error', (error) => stop(new Error(`the audit log's writer thread failed: ${error.message}`, { cause: error })));
    thread.on('exit', (code) => stop(new Error(`the audit log's writer thread stopped (exit code ${code})`)));
    thread.unref();
  }

  /** Opens the file for writing with the durability every commit of the log needs. */
  static open(path: string, busyTimeoutMs: number): Promise<LocalFileWriter> {
    const driver = createRequire(import.meta.url).resolve('libsql');
    const thread = new Worker(THREAD_PROGRAM, { eval: true, workerData: { driver, path, busyTimeoutMs } });
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(new Error(`cannot start the audit log's writer thread: ${error.message}`, { cause: error }));
      thread.once('error', failed);
      thread.once('message', (message: ThreadMessage) => {
        thread.off('error', failed);
        if ('opened' in message && message.opened) resolve(new LocalFileWriter(thread));
        else reject(new FileWriteError('failure' in message && message.failure !== undefined ? message.failure : { message: 'the writer thread did not open the file' }));
      });
    });
  }

  /** Runs the statements in one IMMEDIATE transaction; rolled back on any failure, which rejects. */
  write(statements: readonly InStatement[]): Promise<void> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const request: WriteRequest = { id: this.#nextId++, statements: statements.map(positionalStatement) };
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      this.#thread.ref();
      this.#thread.postMessage(request);
    });
  }

  /**
   * Closes the file; resolves once the thread has ended. Only then is the file really closed (the
   * driver keeps a connection with prepared statements open until they are freed), and whoever
   * closes a store may next remove the file or fold its WAL in, which an open connection would keep busy.
   */
  close(): Promise<void> {
    if (this.#stopped === undefined) {
      this.#stopped = new Error("the audit log's writer is closed");
      this.#thread.ref();
      this.#thread.postMessage('close');
    }
    return this.#exited;
  }
}

function positionalStatement(statement: InStatement): WriteRequest['statements'][number] {
  if (typeof statement === 'string') return { sql: statement, args: [] };
  const { sql, args } = statement;
  if (args === undefined) return { sql, args: [] };
  if (Array.isArray(args)) return { sql, args };
  throw new Error('the audit log writer uses positional arguments only');
}
