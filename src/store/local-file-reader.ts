import Database from 'libsql';
import AsyncDatabase from 'libsql/promise';
import { storedLeaf } from './entry-queries.js';
import type { StoredLeaf } from './entry-queries.js';
import type { BackgroundQuery, LocalFileReading } from './libsql-store.js';

// Small enough that a page is hashed and let go before the young generation is collected: pages of
// 16 MiB outlived it, and the heap filled with them every few pages (a full collection each time).
const PAGE_BYTES = 1024 * 1024;
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
  /** Off the main thread too, but beside #background: a connection runs one statement at a time. */
  readonly #lookups: AsyncDatabase;

  constructor(path: string) {
    this.#rows = new Database(path, { readonly: true });
    this.#background = new AsyncDatabase(path, { readonly: true });
    this.#lookups = new AsyncDatabase(path, { readonly: true });
  }

  /**
   * The log's stored bodies in index order, a page at a time (see readStoredLeaves). Pages hold
   * about PAGE_BYTES of bodies, so memory stays flat however large entries are, and small entries
   * come in pages large enough that reading and hashing overlap well.
   */
  async *entryPages(log: string): AsyncGenerator<StoredLeaf[]> {
    const pages = new EntryPageQueries(this.#rows);
    let next = 0;
    let pageSize = FIRST_PAGE_ENTRIES;
    for (;;) {
      const page = pages.concatenated(log, next, pageSize) ?? pages.rowByRow(log, next, pageSize);
      if (page.length === 0) return;
      yield page;
      next = page[page.length - 1]!.index + 1;
      let bytes = 0;
      for (const leaf of page) bytes += leaf.body.length;
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

  /**
   * Every row of a query, computed off the main thread, and beside firstRow's: for a scan of the
   * log that a verifier waits for while it hashes (the entries of one kind).
   */
  async allRows(statement: BackgroundQuery): Promise<Record<string, unknown>[]> {
    const prepared = (await this.#lookups.prepare(statement.sql)) as { all(...args: unknown[]): Promise<unknown[]> };
    return (await prepared.all(...statement.args)) as Record<string, unknown>[];
  }

  close(): void {
    this.#rows.close();
    this.#background.close();
    this.#lookups.close();
  }
}

/**
 * The two ways of reading a page of entries. Row by row, the driver makes a row array and a buffer
 * per entry, which costs more than hashing the entry. Concatenated, the database joins the page's
 * bodies into one BLOB and lists their indexes and lengths, and the page is cut out of it: the
 * same bytes at a fraction of the cost. Only a page of plain entries with consecutive indexes is
 * taken that way (see CONCATENATED_PAGE); any other is read row by row, so that whatever is odd
 * about a row is reported as it always was.
 */
class EntryPageQueries {
  readonly #concatenated: Database.Statement;
  readonly #rows: Database.Statement;

  constructor(database: Database.Database) {
    this.#concatenated = database.prepare(CONCATENATED_PAGE).raw(true);
    this.#rows = database.prepare('SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND idx >= ? ORDER BY idx LIMIT ?').raw(true);
  }

  /** Up to `limit` entries from index `from`; undefined when they are not all plain entries with consecutive indexes. */
  concatenated(log: string, from: number, limit: number): StoredLeaf[] | undefined {
    let row: [number, string | null, unknown, string | null, number];
    try {
      row = this.#concatenated.get(log, from, limit) as typeof row;
    } catch (error) {
      // A page whose bodies together are too long for one BLOB is read row by row.
      if ((error as { code?: unknown }).code === 'SQLITE_TOOBIG') return undefined;
      throw error;
    }
    const [count, indexList, bodies, lengthList, others] = row;
    if (count === 0) return [];
    if (others !== 0 || indexList === null || lengthList === null || !(bodies instanceof Uint8Array)) return undefined;
    const indexes = integerList(indexList, count);
    const lengths = integerList(lengthList, count);
    if (indexes === undefined || lengths === undefined) return undefined;
    const page: StoredLeaf[] = new Array(count);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      // Consecutive indexes only: a gap, a repeat or a disorder is read row by row, and reported as ever.
      if (indexes[i] !== indexes[0]! + i) return undefined;
      page[i] = { index: indexes[i]!, body: bodies.subarray(offset, (offset += lengths[i]!)) };
    }
    return offset === bodies.length ? page : undefined;
  }

  rowByRow(log: string, from: number, limit: number): StoredLeaf[] {
    const rows = this.#rows.all(log, from, limit) as [number, unknown, unknown][];
    return rows.map(([index, body, prunedLeaf]) => storedLeaf(log, index, body, prunedLeaf));
  }
}

/**
 * A page of entries as one row: how many, their indexes and their bodies' lengths (comma-separated,
 * in one order) and their bodies joined in that order, and how many are not plain (an index that
 * is no integer, a body that is no BLOB, a pruned payload). group_concat copies a BLOB's bytes as
 * they are; the CAST keeps them bytes.
 */
const CONCATENATED_PAGE = `
  SELECT count(*), group_concat(idx), CAST(group_concat(body, '') AS BLOB), group_concat(length(body)),
         count(*) FILTER (WHERE typeof(idx) <> 'integer' OR typeof(body) <> 'blob' OR pruned_leaf IS NOT NULL)
  FROM (SELECT idx, body, pruned_leaf FROM entries WHERE log = ? AND idx >= ? ORDER BY idx LIMIT ?)`;

/** `count` non-negative decimal integers separated by commas; undefined for anything else. */
function integerList(text: string, count: number): number[] | undefined {
  const values: number[] = new Array(count);
  let value = 0;
  let digits = 0;
  let position = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i === text.length ? 0x2c : text.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) {
      value = value * 10 + (code - 0x30);
      digits++;
    } else if (code === 0x2c && digits > 0 && position < count && Number.isSafeInteger(value)) {
      values[position++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return position === count ? values : undefined;
}
