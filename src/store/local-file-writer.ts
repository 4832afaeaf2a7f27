import AsyncDatabase from 'libsql/promise';
import type { InStatement, InValue } from '@libsql/client';
import type { LocalFileWriting } from './libsql-store.js';

interface AsyncStatement {
  all(...args: unknown[]): Promise<unknown[]>;
}

// Multi-row inserts come in as many shapes as batch sizes; the common ones stay prepared.
const PREPARED_STATEMENTS_KEPT = 64;

/**
 * Commits to a local database file on the libsql driver's own thread. Through @libsql/client a
 * `file:` commit runs on the event loop, fsync included, so no request is read while it lasts and a
 * busy gateway commits one entry at a time; here the event loop goes on reading requests, which
 * then share the next commit.
 */
export class LocalFileWriter implements LocalFileWriting {
  readonly #database: AsyncDatabase;
  readonly #prepared = new Map<string, Promise<AsyncStatement>>();

  private constructor(database: AsyncDatabase) {
    this.#database = database;
  }

  /** Opens the file for writing with the durability every commit of the log needs. */
  static async open(path: string, busyTimeoutMs: number): Promise<LocalFileWriter> {
    const database = new AsyncDatabase(path, { timeout: busyTimeoutMs });
    try {
      // The journal mode is the file's (set by the first connection); synchronous is per connection.
      await database.exec('PRAGMA synchronous = FULL');
    } catch (error) {
      database.close();
      throw error;
    }
    return new LocalFileWriter(database);
  }

  /** Runs the statements in one IMMEDIATE transaction; rolls back and rethrows on any failure. */
  async write(statements: readonly InStatement[]): Promise<void> {
    await this.#database.exec('BEGIN IMMEDIATE');
    try {
      for (const statement of statements) {
        const { sql, args } = typeof statement === 'string' ? { sql: statement, args: [] } : statement;
        // `all` steps the statement on the driver's thread (its `run` would block this one).
        await (await this.#statement(sql)).all(...positional(args));
      }
      await this.#database.exec('COMMIT');
    } catch (error) {
      await this.#database.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  close(): void {
    this.#database.close();
  }

  #statement(sql: string): Promise<AsyncStatement> {
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      if (this.#prepared.size >= PREPARED_STATEMENTS_KEPT) this.#prepared.delete(this.#prepared.keys().next().value!);
      statement = this.#database.prepare(sql) as Promise<AsyncStatement>;
      this.#prepared.set(sql, statement);
      statement.catch(() => this.#prepared.delete(sql));
    }
    return statement;
  }
}

function positional(args: unknown): InValue[] {
  if (args === undefined) return [];
  if (Array.isArray(args)) return args as InValue[];
  throw new Error('the audit log writer uses positional arguments only');
}
