import type { Client } from '@libsql/client';
import { itemSpan, sessionSpan, traceRequestBody } from './otlp-spans.js';
import type { OtlpSpan } from './otlp-spans.js';
import { listSessions, summarizeSession } from './session-summaries.js';
import type { SessionSummary } from './session-summaries.js';
import { readTimeline } from './session-timeline.js';

export interface TraceExportSummary {
  readonly sessions: number;
  readonly spans: number;
}

// What one export request carries; collectors commonly take a few MiB per request.
const SPANS_PER_REQUEST = 256;

/**
 * Streams the log's sessions (or one) as traces: each request body holds at most
 * SPANS_PER_REQUEST spans, and is sent before the next is built, so memory stays flat.
 */
export async function exportTraces(
  client: Client,
  log: string,
  scope: { session?: string | undefined },
  send: (body: unknown) => Promise<void>,
): Promise<TraceExportSummary> {
  let batch: OtlpSpan[] = [];
  let sessions = 0;
  let spans = 0;
  const add = async (span: OtlpSpan): Promise<void> => {
    batch.push(span);
    spans += 1;
    if (batch.length < SPANS_PER_REQUEST) return;
    await send(traceRequestBody(log, batch));
    batch = [];
  };
  for await (const summary of sessionsIn(client, log, scope.session)) {
    sessions += 1;
    await add(sessionSpan(log, summary));
    for await (const item of readTimeline(client, log, { session: summary.session })) await add(itemSpan(log, item));
  }
  if (batch.length > 0) await send(traceRequestBody(log, batch));
  return { sessions, spans };
}

async function* sessionsIn(client: Client, log: string, session: string | undefined): AsyncGenerator<SessionSummary> {
  if (session === undefined) {
    yield* listSessions(client, log);
    return;
  }
  const summary = await summarizeSession(client, log, session);
  if (summary !== undefined) yield summary;
}
