import type { Client, InValue } from '@libsql/client';
import { z } from 'zod';
import { AgentIdentitySchema, EntryOutcomeSchema } from '../ledger/entry.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { APPROVAL_REQUEST_KIND } from './call-record.js';
import { deniedEntrySql, errorEntrySql } from './call-verdict.js';

/** An instant given as an ISO 8601 date or date-time, as the UTC form the log stores (which sorts as text). */
const InstantSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z' })
  .transform((text) => new Date(text).toISOString());

/** Which sessions to list; every filter given must hold. */
export const SessionFilterSchema = z.strictObject({
  /** The agent's registered id (`agent.id`) or its MCP client name. */
  agent: z.string().min(1).optional(),
  /** A tool the session called: the upstream's own name or the name the agent used (`server__tool`). */
  tool: z.string().min(1).optional(),
  /** Sessions still active at or after this instant. */
  since: InstantSchema.optional(),
  /** Sessions started at or before this instant. */
  until: InstantSchema.optional(),
  /** Sessions with at least one tool call that ended so (`refused` includes calls a policy denied). */
  outcome: EntryOutcomeSchema.optional(),
});
export type SessionFilter = z.infer<typeof SessionFilterSchema>;
export type SessionFilterInput = z.input<typeof SessionFilterSchema>;

/** One session as the `sessions` list shows it. Counts are of tool calls. */
export interface SessionSummary {
  readonly session: string;
  /** Who the session's first entry says was calling. */
  readonly agent: AgentIdentity;
  /** The times of its first and last entries. */
  readonly started: string;
  readonly ended: string;
  readonly durationMs: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly entries: number;
  readonly calls: number;
  /** Calls refused: by a policy (policy.decision deny) or by the gateway (outcome `refused`). */
  readonly denials: number;
  /** Calls that waited for a human (approval.request entries). */
  readonly approvals: number;
  /** Calls that ended in an error or a timeout. */
  readonly errors: number;
}

const DEFAULT_PAGE_SIZE = 500;

/**
 * The log's sessions that match `filter`, in the order they started (their first entry), a page
 * at a time. A page is found from the (log, session, idx) index alone, then only its sessions'
 * entries are read for the counts.
 */
export async function* listSessions(
  client: Client,
  log: string,
  filter: SessionFilterInput = {},
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<SessionSummary> {
  const parsed = SessionFilterSchema.parse(filter);
  let after = -1;
  for (;;) {
    const page = await readSessionPage(client, log, parsed, { after, limit: pageSize });
    if (page.length === 0) return;
    const counts = await countCalls(client, log, page.map((row) => row.session));
    for (const row of page) yield { ...row, ...(counts.get(row.session) ?? NO_CALLS) };
    after = page[page.length - 1]!.firstIndex;
  }
}

/** One session's summary; undefined when the log has no such session. */
export async function summarizeSession(client: Client, log: string, session: string): Promise<SessionSummary | undefined> {
  const [row] = await readSessionPage(client, log, {}, { after: -1, limit: 1, session });
  if (row === undefined) return undefined;
  const counts = await countCalls(client, log, [session]);
  return { ...row, ...(counts.get(session) ?? NO_CALLS) };
}

type SessionRow = Omit<SessionSummary, keyof CallCounts>;
type CallCounts = Pick<SessionSummary, 'calls' | 'denials' | 'approvals' | 'errors'>;
const NO_CALLS: CallCounts = { calls: 0, denials: 0, approvals: 0, errors: 0 };

const SessionRowSchema = z.object({
  session: z.string(),
  first: z.number(),
  last: z.number(),
  entries: z.number(),
  started: z.string(),
  ended: z.string(),
  agent: z.string().transform((text): unknown => JSON.parse(text)).pipe(AgentIdentitySchema),
});

async function readSessionPage(
  client: Client,
  log: string,
  filter: SessionFilter,
  page: { after: number; limit: number; session?: string },
): Promise<SessionRow[]> {
  const conditions = ['s.first > :after'];
  const args: Record<string, InValue> = { log, after: page.after, limit: page.limit };
  if (filter.since !== undefined) {
    conditions.push('l.time >= :since');
    args['since'] = filter.since;
  }
  if (filter.until !== undefined) {
    conditions.push('f.time <= :until');
    args['until'] = filter.until;
  }
  if (filter.agent !== undefined) {
    conditions.push("(json_extract(CAST(f.body AS TEXT), '$.agent.id') = :agent OR json_extract(CAST(f.body AS TEXT), '$.agent.client.name') = :agent)");
    args['agent'] = filter.agent;
  }
  if (filter.tool !== undefined) {
    conditions.push(`EXISTS (SELECT 1 FROM entries t WHERE t.log = :log AND t.session = s.session AND t.kind = 'tool.call'
      AND (t.tool = :tool OR json_extract(CAST(t.body AS TEXT), '$.name') = :tool))`);
    args['tool'] = filter.tool;
  }
  if (filter.outcome !== undefined) {
    const denied = filter.outcome === 'refused' ? ` OR ${deniedEntrySql('o')}` : '';
    conditions.push(`EXISTS (SELECT 1 FROM entries o WHERE o.log = :log AND o.session = s.session
      AND ((o.kind = 'tool.result' AND json_extract(CAST(o.body AS TEXT), '$.outcome') = :outcome)${denied}))`);
    args['outcome'] = filter.outcome;
  }
  const onlySession = page.session === undefined ? '' : 'AND session = :session';
  if (page.session !== undefined) args['session'] = page.session;
  const result = await client.execute({
    sql: `SELECT s.session, s.first, s.last, s.entries, f.time AS started, l.time AS ended,
            json_extract(CAST(f.body AS TEXT), '$.agent') AS agent
          FROM (SELECT session, MIN(idx) AS first, MAX(idx) AS last, COUNT(*) AS entries
                FROM entries WHERE log = :log AND session IS NOT NULL ${onlySession} GROUP BY session) s
          JOIN entries f ON f.log = :log AND f.idx = s.first
          JOIN entries l ON l.log = :log AND l.idx = s.last
          WHERE ${conditions.join(' AND ')}
          ORDER BY s.first LIMIT :limit`,
    args,
  });
  return result.rows.map((raw) => {
    const row = SessionRowSchema.parse(raw);
    return {
      session: row.session,
      agent: row.agent,
      started: row.started,
      ended: row.ended,
      durationMs: Date.parse(row.ended) - Date.parse(row.started),
      firstIndex: row.first,
      lastIndex: row.last,
      entries: row.entries,
    };
  });
}

/** The tool-call counts of each session, read from those sessions' entries only. */
async function countCalls(client: Client, log: string, sessions: readonly string[]): Promise<Map<string, CallCounts>> {
  const result = await client.execute({
    sql: `SELECT e.session,
            SUM(e.kind = 'tool.call') AS calls,
            COUNT(DISTINCT CASE WHEN ${deniedEntrySql('e')} THEN e.call END) AS denials,
            SUM(e.kind = '${APPROVAL_REQUEST_KIND}') AS approvals,
            SUM(${errorEntrySql('e')}) AS errors
          FROM entries e WHERE e.log = ? AND e.session IN (${sessions.map(() => '?').join(', ')})
          GROUP BY e.session`,
    args: [log, ...sessions],
  });
  return new Map(
    result.rows.map((row) => [
      String(row['session']),
      { calls: Number(row['calls']), denials: Number(row['denials']), approvals: Number(row['approvals']), errors: Number(row['errors']) },
    ]),
  );
}
