import { z } from 'zod';
import { agentLabel } from '../review/agent-label.js';
import { listSessions, SessionFilterSchema } from '../review/session-summaries.js';
import type { SessionFilter, SessionSummary } from '../review/session-summaries.js';
import { durationText } from '../review/duration-text.js';
import { chooseLog } from './log-choice.js';
import { openReviewDatabase } from './review-database.js';
import { writeToStdout } from './standard-output.js';
import { writeJsonDocument } from './streamed-json-document.js';

export const SessionsOptionsSchema = SessionFilterSchema.extend({
  db: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  json: z.boolean().default(false),
});
export type SessionsOptions = z.infer<typeof SessionsOptionsSchema>;

const COLUMNS: readonly { title: string; width: number; right?: boolean; value: (s: SessionSummary) => string }[] = [
  { title: 'SESSION', width: 36, value: (s) => s.session },
  { title: 'AGENT', width: 20, value: (s) => agentLabel(s.agent) },
  { title: 'STARTED (UTC)', width: 24, value: (s) => s.started },
  { title: 'DURATION', width: 10, right: true, value: (s) => durationText(s.durationMs) },
  { title: 'CALLS', width: 6, right: true, value: (s) => String(s.calls) },
  { title: 'DENIED', width: 6, right: true, value: (s) => String(s.denials) },
  { title: 'APPROVALS', width: 9, right: true, value: (s) => String(s.approvals) },
  { title: 'ERRORS', width: 6, right: true, value: (s) => String(s.errors) },
];

/** `agenttrail sessions`: the log's sessions that match the filters, oldest first, as a table or one JSON document. */
export async function runSessions(options: SessionsOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const { db, log: logOption, json, ...filter } = options;
  const database = await openReviewDatabase(db, env, 'read');
  try {
    const log = await chooseLog(database, logOption, undefined);
    const sessions = listSessions(database.client, log, filter);
    if (json) {
      await writeJsonDocument({ database: database.url, log, filter }, 'sessions', sessions, writeToStdout);
      return;
    }
    let count = 0;
    for await (const session of sessions) {
      if (count === 0) await writeToStdout(`${tableRow(COLUMNS.map((column) => column.title))}\n`);
      await writeToStdout(`${tableRow(COLUMNS.map((column) => column.value(session)))}\n`);
      count += 1;
    }
    await writeToStdout(`${describeCount(count, log, filter)}\n`);
  } finally {
    database.close();
  }
}

// Rows are written as they are read, so columns have fixed widths; a longer value pushes the row on.
function tableRow(values: readonly string[]): string {
  return values
    .map((value, i) => {
      const column = COLUMNS[i]!;
      return column.right === true ? value.padStart(column.width) : value.padEnd(column.width);
    })
    .join('  ')
    .trimEnd();
}

function describeCount(count: number, log: string, filter: SessionFilter): string {
  const filters = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `--${name} ${String(value)}`);
  const matching = filters.length === 0 ? '' : ` matching ${filters.join(' ')}`;
  if (count === 0) return `no sessions in log ${log}${matching}`;
  return `${count} session${count === 1 ? '' : 's'} in log ${log}${matching}; agenttrail show SESSION reads one`;
}
