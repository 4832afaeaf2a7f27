import Database from 'libsql';
import AsyncDatabase from 'libsql/promise';
import { storedLeaf } from './entry-queries.js';
import type { StoredLeaf } from './entry-queries.js';
import type { BackgroundQuery, LocalFileReading } from './libsql-store.js';

const PAGE_BYTES = 16 * 1024 * 1024;
const FIRST_PAGE_ENTRIES = 1000;
const MIN_PAGE_ENTRIES = 16;
const MAX_PAGE_ENTRIES = 16_384;

/**
 * Reads a local database file through the libsql driver itself, for the two reads that dominate
 * verifying a log: @libsql/client builds a row object per row (about 1 µs more per entry), and
 * runs every statement on the main thread, where a scan of the whole log would hold up hashing.
 * The async connection runs its statements on the driver's own thread.
 */
export class LocalFileReader implements LocalFileReading {
  readonly #rows: Database.Database;
  readonly #background: AsyncDatabase;

  constructor(path: string) {
    this.#rows = new Database(path, { readonly: true });
    this.#background = new AsyncDatabase(path, { readonly: true });
  }

  /**
   * The log's stored bodies in index order, a page at a time (see readStoredLeaves). Pages hold
   * about PAGE_BYTES of bodies, so memory stays flat however large entries are, and small entries
   * come in pages large enough that reading and hashing overlap well.
   */
  async *entryPages(log: string): AsyncGenerator<StoredLeaf[]> {
    const statement = this.#rows.prepare('SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND idx >= ? ORDER BY idx LIMIT ?').raw(true);
    let next = 0;
    let pageSize = FIRST_PAGE_ENTRIES;
    for (;;) {
      const rows = statement.all(log, next, pageSize) as [number, unknown, unknown][];
      if (rows.length === 0) return;
      let bytes = 0;
      const page = rows.map(([index, body, prunedLeaf]): StoredLeaf => {
        const leaf = storedLeaf(log, index, body, prunedLeaf);
        bytes += leaf.body.length;
        return leaf;
      });
      yield page;
      next = page[page.length - 1]!.index + 1;
      pageSize = Math.max(MIN_PAGE_ENTRIES, Math.min(MAX_PAGE_ENTRIES, Math.floor((PAGE_BYTES * page.length) / Math.max(bytes, 1))));
    }
  }

  /**
   * A statement prepared once, run on this thread: for the small indexed lookup made on every
   * request (a token's principal), where @libsql/client would prepare it again each time, ten times
   * the cost of the lookup. Arguments are strings and numbers: the driver's synchronous API cannot
   * bind a BLOB (see DESIGN.md), so bind hashes as hex and `unhex(?)` them in the SQL.
   */
  lookup(sql: string): (...args: (string | number)[]) => Record<string, unknown> | undefined {
    const statement = this.#rows.prepare(sql);
    return (...args) => statement.get(...args) as Record<string, unknown> | undefined;
  }

  /** The first row of a query, computed off the main thread (the driver's `get` would block it). */
  async firstRow(statement: BackgroundQuery): Promise<Record<string, unknown> | undefined> {
    const prepared = (await this.#background.prepare(statement.sql)) as { all(...args: unknown[]): Promise<unknown[]> };
    return (await prepared.all(...statement.args))[0] as Record<string, unknown> | undefined;
  }

  close(): void {
    this.#rows.close();
    this.#background.close();
  }
}
