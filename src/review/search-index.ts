import type { Client } from '@libsql/client';
import type { Entry } from '../ledger/entry.js';
import { parseEntryBody } from '../store/entry-queries.js';
import { blobBytes } from '../store/blob-bytes.js';
import { matchExcerpt } from './match-excerpt.js';

/**
 * Full-text search over the recorded payloads (and the server and tool names) of a log's entries,
 * with SQLite FTS5 (migration 5: search_entries numbers the indexed entries, search_text holds
 * their words and no copy of the text).
 *
 * The index is caught up by the searcher, from the last entry it holds, rather than by the
 * gateway as it appends: indexing costs about as much as appending, and the gateway's appends are
 * on every tool call's path, a search is not. Each chunk is one short write transaction, so a
 * running gateway waits at most one chunk for its next commit.
 */

const CATCH_UP_CHUNK = 2000;

/** The words of an entry: its payload's strings, and the names of its server and tool. */
const ENTRY_TEXT = `trim(coalesce(json_extract(b, '$.name'), '') || ' ' || coalesce(tool, '') || ' ' || coalesce(server, '') || ' ' ||
  coalesce((SELECT group_concat(j.value, ' ') FROM json_tree(b, '$.payload') j WHERE j.type = 'text'), ''))`;

/** Indexes the entries of `log` appended since the last catch-up; returns how many it indexed. */
export async function catchUpSearchIndex(client: Client, log: string, onProgress?: (indexed: number) => void): Promise<number> {
  let indexed = 0;
  for (;;) {
    const added = await indexNextChunk(client, log);
    if (added === 0) return indexed;
    indexed += added;
    onProgress?.(indexed);
  }
}

async function indexNextChunk(client: Client, log: string): Promise<number> {
  // The transaction holds the write lock from its start, so two searches never index the same entries.
  const transaction = await client.transaction('write');
  try {
    const next = await transaction.execute({ sql: 'SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM search_entries WHERE log = ?', args: [log] });
    const from = Number(next.rows[0]?.['next'] ?? 0);
    const numbered = await transaction.execute({
      sql: 'INSERT INTO search_entries (log, idx) SELECT log, idx FROM entries WHERE log = ? AND idx >= ? ORDER BY idx LIMIT ?',
      args: [log, from, CATCH_UP_CHUNK],
    });
    await transaction.execute({
      sql: `INSERT INTO search_text (rowid, text)
            SELECT id, text FROM (
              SELECT s.id, ${ENTRY_TEXT} AS text
              FROM (SELECT s.id, e.tool, e.server, CAST(e.body AS TEXT) AS b
                    FROM search_entries s JOIN entries e ON e.log = s.log AND e.idx = s.idx
                    WHERE s.log = ? AND s.idx >= ?) s
            ) WHERE text <> ''`,
      args: [log, from],
    });
    await transaction.commit();
    return numbered.rowsAffected;
  } finally {
    transaction.close();
  }
}

/** One entry that matched, with the part of its payload that matched. */
export interface SearchHit {
  readonly index: number;
  readonly time: string;
  readonly kind: string;
  readonly session: string;
  readonly call: string | null;
  readonly name: string | null;
  readonly excerpt: string;
}

export interface SearchResults {
  /** How many entries match in all. */
  readonly total: number;
  /** The newest `limit` of them, newest first. */
  readonly hits: readonly SearchHit[];
}

/**
 * The entries of `log` that hold every word of `text` (in any order; a word with punctuation
 * matches as a phrase, e.g. `config.yaml`; `deploy*` matches words that start with deploy).
 */
export async function searchEntries(client: Client, log: string, text: string, limit: number): Promise<SearchResults> {
  const query = ftsQueryOf(text);
  const total = await client.execute({
    sql: 'SELECT COUNT(*) AS n FROM search_text JOIN search_entries s ON s.id = search_text.rowid WHERE search_text MATCH ? AND s.log = ?',
    args: [query, log],
  });
  const found = await client.execute({
    sql: `SELECT e.idx, e.body FROM search_text
          JOIN search_entries s ON s.id = search_text.rowid
          JOIN entries e ON e.log = s.log AND e.idx = s.idx
          WHERE search_text MATCH ? AND s.log = ?
          ORDER BY search_text.rowid DESC LIMIT ?`,
    args: [query, log, limit],
  });
  const words = wordsOf(text);
  const hits = found.rows.map((row) => {
    const index = Number(row['idx']);
    return hitOf(parseEntryBody(log, index, blobBytes(row['body'], `the body of entry ${index} of log "${log}"`)), words);
  });
  return { total: Number(total.rows[0]?.['n'] ?? 0), hits };
}

/** The FTS5 query for what a user typed: every word must occur, each taken literally. */
function ftsQueryOf(text: string): string {
  const words = text.trim().split(/\s+/).filter((word) => word !== '' && word !== '*');
  if (words.length === 0) throw new Error('nothing to search for: give at least one word');
  return words
    .map((word) => {
      const prefix = word.endsWith('*');
      const literal = prefix ? word.slice(0, -1) : word;
      return `"${literal.replaceAll('"', '""')}"${prefix ? '*' : ''}`;
    })
    .join(' ');
}

function wordsOf(text: string): string[] {
  return text
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/\*$/, ''))
    .filter((word) => word !== '');
}

function hitOf(entry: Entry, words: readonly string[]): SearchHit {
  return {
    index: entry.index,
    time: entry.time,
    kind: entry.kind,
    session: entry.session,
    call: entry.call ?? null,
    name: entry.name ?? entry.tool ?? null,
    excerpt: matchExcerpt(entry.payload, words),
  };
}
