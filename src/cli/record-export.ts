import type { Client } from '@libsql/client';
import { ocsfEventOf } from '../review/ocsf-api-activity.js';
import { postTraces, tracesUrlOf } from '../review/otlp-http-exporter.js';
import type { OtlpTarget } from '../review/otlp-http-exporter.js';
import { readTimeline } from '../review/session-timeline.js';
import { exportTraces } from '../review/trace-export.js';
import { readSessionLeaves, readStoredLeaves } from '../store/entry-queries.js';
import { writeCompleteFile } from './complete-file.js';
import { chooseLog } from './log-choice.js';
import { openReviewDatabase } from './review-database.js';
import { writeToStdout } from './standard-output.js';
import { UsageError } from './usage-error.js';

export interface RecordExportOptions {
  readonly db?: string | undefined;
  readonly format: 'jsonl' | 'ocsf' | 'otlp';
  readonly session?: string | undefined;
  readonly log?: string | undefined;
  readonly out?: string | undefined;
  readonly endpoint?: string | undefined;
  /** `Name: value` */
  readonly header: readonly string[];
}

const PAGE_SIZE = 1000;
// Output is handed to the file or pipe in chunks of about this many characters.
const CHUNK_CHARS = 64 * 1024;

/**
 * `export --format jsonl|ocsf|otlp`: the log's records (or one session's) as JSON Lines of
 * canonical entries, as OCSF API Activity events, or as OpenTelemetry traces sent to a collector.
 * Read a page at a time and written as they are read: memory stays flat however long the log.
 */
export async function runRecordExport(options: RecordExportOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const target = options.format === 'otlp' ? otlpTargetOf(options, env) : undefined;
  const database = await openReviewDatabase(options.db, env, 'read');
  try {
    const log = await chooseLog(database, options.log, options.session);
    const session = options.session;
    if (session !== undefined && !(await database.hasSession(log, session))) {
      throw new Error(`log "${log}" in ${database.url} has no session "${session}"; agenttrail sessions lists the sessions it has`);
    }
    const what = session === undefined ? `log ${log}` : `session ${session} of log ${log}`;
    if (target !== undefined) {
      const sent = await exportTraces(database.client, log, { session }, (body) => postTraces(target, body));
      process.stdout.write(`exported ${sent.sessions} session${sent.sessions === 1 ? '' : 's'} (${sent.spans} spans) of ${what} to ${target.url}\n`);
      return;
    }
    const lines = options.format === 'jsonl' ? canonicalEntryLines(database.client, log, session) : ocsfEventLines(database.client, log, session);
    const out = options.out;
    const count = out === undefined ? await writeLines(lines, writeToStdout) : await writeCompleteFile(out, (write) => writeLines(lines, write));
    const noun = options.format === 'jsonl' ? 'entries' : 'OCSF events';
    // Without --out the records are on stdout, so the summary goes to stderr.
    (out === undefined ? process.stderr : process.stdout).write(`exported ${count} ${noun} of ${what} to ${out ?? 'stdout'}\n`);
  } finally {
    database.close();
  }
}

/** Each stored body as it is: the entry's RFC 8785 canonical JSON, the bytes its leaf hash covers. */
async function* canonicalEntryLines(client: Client, log: string, session: string | undefined): AsyncGenerator<string> {
  const pages = session === undefined ? readStoredLeaves(client, log, { from: 0 }, PAGE_SIZE) : readSessionLeaves(client, log, session, Number.MAX_SAFE_INTEGER, PAGE_SIZE);
  for await (const page of pages) for (const leaf of page) yield `${Buffer.from(leaf.body).toString('utf8')}\n`;
}

async function* ocsfEventLines(client: Client, log: string, session: string | undefined): AsyncGenerator<string> {
  for await (const item of readTimeline(client, log, { session })) yield `${JSON.stringify(ocsfEventOf(item, log))}\n`;
}

async function writeLines(lines: AsyncIterable<string>, write: (chunk: string) => Promise<void>): Promise<number> {
  let count = 0;
  let chunk = '';
  for await (const line of lines) {
    count += 1;
    chunk += line;
    if (chunk.length < CHUNK_CHARS) continue;
    await write(chunk);
    chunk = '';
  }
  if (chunk !== '') await write(chunk);
  return count;
}

/**
 * The collector: --endpoint, else $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is), else
 * $OTEL_EXPORTER_OTLP_ENDPOINT; headers from $OTEL_EXPORTER_OTLP_HEADERS, then --header.
 */
function otlpTargetOf(options: RecordExportOptions, env: NodeJS.ProcessEnv): OtlpTarget {
  let url: string;
  try {
    if (options.endpoint !== undefined) url = tracesUrlOf(options.endpoint);
    else if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) url = new URL(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).href;
    else if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined) url = tracesUrlOf(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    else throw new UsageError('--format otlp needs --endpoint URL (the collector), or $OTEL_EXPORTER_OTLP_ENDPOINT');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--endpoint: ${error instanceof Error ? error.message : String(error)}`);
  }
  const headers: Record<string, string> = {};
  for (const pair of (env.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',').filter((text) => text.trim() !== '')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`$OTEL_EXPORTER_OTLP_HEADERS: expected name=value pairs separated by commas, got '${pair}'`);
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  for (const header of options.header) {
    const at = header.indexOf(':');
    if (at <= 0) throw new UsageError(`--header: expected 'Name: value', got '${header}'`);
    headers[header.slice(0, at).trim()] = header.slice(at + 1).trim();
  }
  return { url, headers };
}
