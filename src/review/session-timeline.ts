import type { Client } from '@libsql/client';
import type { Entry } from '../ledger/entry.js';
import { parseEntryBody, readCallLeaves, readSessionLeaves, readStoredLeaves } from '../store/entry-queries.js';
import { callRecordOf, isRequest, REQUEST_KINDS } from './call-record.js';
import type { TimelineItem } from './call-record.js';

const DEFAULT_PAGE_SIZE = 500;

/**
 * The calls and events of one session (or, without `session`, of the whole log) in the order their
 * first entry was recorded, a page of entries at a time: memory holds one page and the entries of
 * its calls, however long the log. Each call is joined with the entries that share its call id
 * through the (log, call) index, wherever in the log they are.
 */
export async function* readTimeline(
  client: Client,
  log: string,
  scope: { session?: string | undefined },
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<TimelineItem> {
  const pages =
    scope.session === undefined
      ? readStoredLeaves(client, log, { from: 0 }, pageSize)
      : readSessionLeaves(client, log, scope.session, Number.MAX_SAFE_INTEGER, pageSize);
  for await (const page of pages) {
    const entries = page.map((leaf) => parseEntryBody(log, leaf.index, leaf.body));
    const requests = entries.filter(isRequest);
    const linked = await entriesOfCalls(client, log, requests.map((request) => request.call));
    const opened = new Set(requests.map((request) => request.call));
    // An outcome, decision or credential whose request is on another page belongs to that call.
    const strays = [...new Set(entries.flatMap((entry) => (entry.call !== undefined && !opened.has(entry.call) ? [entry.call] : [])))];
    const openedElsewhere = await callsWithRequests(client, log, strays);
    for (const entry of entries) {
      if (isRequest(entry)) yield callRecordOf(entry, linked.get(entry.call) ?? []);
      else if (entry.call === undefined || !(opened.has(entry.call) || openedElsewhere.has(entry.call))) yield { type: 'event', entry };
    }
  }
}

/** Every entry of each call, in index order, by call id. */
async function entriesOfCalls(client: Client, log: string, calls: readonly string[]): Promise<Map<string, Entry[]>> {
  const byCall = new Map<string, Entry[]>();
  for (const leaf of await readCallLeaves(client, log, calls)) {
    const entry = parseEntryBody(log, leaf.index, leaf.body);
    byCall.set(entry.call!, [...(byCall.get(entry.call!) ?? []), entry]);
  }
  return byCall;
}

/** Those of `calls` that have a request entry somewhere in the log. */
async function callsWithRequests(client: Client, log: string, calls: readonly string[]): Promise<Set<string>> {
  if (calls.length === 0) return new Set();
  const result = await client.execute({
    sql: `SELECT DISTINCT call FROM entries WHERE log = ? AND call IN (${placeholders(calls.length)}) AND kind IN (${placeholders(REQUEST_KINDS.length)})`,
    args: [log, ...calls, ...REQUEST_KINDS],
  });
  return new Set(result.rows.map((row) => String(row['call'])));
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
