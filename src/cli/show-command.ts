import { z } from 'zod';
import type { AgentIdentity } from '../ledger/entry.js';
import { agentLabel } from '../review/agent-label.js';
import { PolicyDecisionPayloadSchema } from '../review/call-verdict.js';
import { describeExternalEvent, EXTERNAL_EVENT_KIND } from '../review/external-event.js';
import { viewOf } from '../review/call-view.js';
import type { CallView, EventView, LinkedEntryView } from '../review/call-view.js';
import { summarizeSession } from '../review/session-summaries.js';
import type { SessionSummary } from '../review/session-summaries.js';
import { REMOVED_BY_RETENTION } from '../review/result-summary.js';
import { readTimeline } from '../review/session-timeline.js';
import { durationText } from '../review/duration-text.js';
import { chooseLog } from './log-choice.js';
import { openReviewDatabase } from './review-database.js';
import { writeToStdout } from './standard-output.js';
import { writeJsonDocument } from './streamed-json-document.js';

export const ShowOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  json: z.boolean().default(false),
});
export type ShowOptions = z.infer<typeof ShowOptionsSchema>;

// A line of arguments or result longer than this is cut; --json has everything.
const LINE_CHARS = 240;
const INDENT = ' '.repeat(16);

/** `agenttrail show SESSION`: the session's calls and events in the order they were recorded. */
export async function runShow(session: string, options: ShowOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const database = await openReviewDatabase(options.db, env, 'read');
  try {
    const log = await chooseLog(database, options.log, session);
    const summary = await summarizeSession(database.client, log, session);
    if (summary === undefined) {
      throw new Error(`log "${log}" in ${database.url} has no session "${session}"; agenttrail sessions lists the sessions it has`);
    }
    const views = mapAsync(readTimeline(database.client, log, { session }), viewOf);
    if (options.json) {
      await writeJsonDocument({ database: database.url, log, session: summary }, 'timeline', views, writeToStdout);
      return;
    }
    await writeToStdout(describeSession(summary, log, database.url));
    for await (const view of views) await writeToStdout(view.type === 'call' ? describeCall(view, summary) : describeEvent(view, summary));
  } finally {
    database.close();
  }
}

async function* mapAsync<T, U>(items: AsyncIterable<T>, map: (item: T) => U): AsyncGenerator<U> {
  for await (const item of items) yield map(item);
}

function describeSession(summary: SessionSummary, log: string, url: string): string {
  return [
    `session  ${summary.session}`,
    `log      ${log} in ${url}`,
    `agent    ${describeAgent(summary.agent)}`,
    `time     ${summary.started} to ${summary.ended} (${durationText(summary.durationMs)})`,
    `calls    ${summary.calls} tool calls: ${summary.denials} denied, ${summary.approvals} waited for approval, ${summary.errors} failed; ` +
      `${summary.entries} entries, index ${summary.firstIndex} to ${summary.lastIndex}`,
    '',
    '',
  ].join('\n');
}

function describeAgent(agent: AgentIdentity): string {
  const parts = [agentLabel(agent)];
  if (agent.subject !== undefined) parts.push(`for ${agent.subject}`);
  if (agent.client !== undefined && agent.client.name !== parts[0]) parts.push(`client ${agent.client.name} ${agent.client.version}`);
  parts.push(agent.remote === undefined ? `over ${agent.transport}` : `over ${agent.transport} from ${agent.remote}`);
  if (agent.user !== undefined && !parts[0]!.startsWith(agent.user)) parts.push(`OS user ${agent.user}`);
  if (agent.parentCommand !== undefined) parts.push(`started by ${agent.parentCommand}`);
  if (agent.auth !== undefined) parts.push(agent.auth === 'none' ? 'unauthenticated' : `authenticated by ${agent.auth}`);
  if (agent.protocol !== undefined) parts.push(`MCP ${agent.protocol}`);
  return parts.join(', ');
}

function describeCall(call: CallView, summary: SessionSummary): string {
  const what = call.direction === 'server' ? `${call.method} asked by ${call.server ?? 'an upstream'}` : `${call.method} ${call.name ?? call.tool ?? ''}`.trimEnd();
  const took = call.durationMs === null ? '' : `  ${durationText(call.durationMs)}`;
  const lines = [`${clock(call.time, summary.started)}  ${what}  ${outcomeWord(call)}${took}`];
  const detail = (label: string, text: string): void => void lines.push(`${INDENT}${label.padEnd(13)}${clip(text)}`);
  if (call.arguments === null && call.method === 'tools/call') detail('arguments', REMOVED_BY_RETENTION);
  else if (call.method === 'tools/call' || !isEmpty(call.arguments)) detail('arguments', JSON.stringify(call.arguments));
  detail('result', call.result);
  for (const decision of call.decisions) detail('decision', describeDecision(decision));
  for (const approval of call.approvals) detail('approval', `${approval.kind.replace(/^approval\./, '')}: ${JSON.stringify(approval.payload)}`);
  for (const credential of call.credentials) {
    const extra = [credential.carrier, credential.scope === undefined ? '' : `scope ${credential.scope}`, credential.expires === undefined ? '' : `expires ${credential.expires}`, `fingerprint ${credential.fingerprint}`];
    detail('credential', `${credential.name} (${extra.filter((part) => part !== '').join(', ')})`);
  }
  for (const other of call.others) detail(other.kind, JSON.stringify(other.payload));
  return `${lines.join('\n')}\n`;
}

function describeEvent(event: EventView, summary: SessionSummary): string {
  const external = event.kind === EXTERNAL_EVENT_KIND ? describeExternalEvent(event.payload) : undefined;
  if (external !== undefined) {
    const { data } = event.payload as { data?: unknown };
    return `${clock(event.time, summary.started)}  ${event.kind}  ${external}${data === undefined ? '' : `\n${INDENT}${'data'.padEnd(13)}${clip(JSON.stringify(data))}`}\n`;
  }
  const payload = isEmpty(event.payload) ? '' : `  ${clip(JSON.stringify(event.payload))}`;
  return `${clock(event.time, summary.started)}  ${event.kind}${payload}\n`;
}

function describeDecision(decision: LinkedEntryView): string {
  const parsed = PolicyDecisionPayloadSchema.safeParse(decision.payload);
  if (!parsed.success) return JSON.stringify(decision.payload);
  const { outcome, rule, policyVersion, reason } = parsed.data;
  return `${outcome}${rule === undefined ? '' : `, rule ${rule}`}${policyVersion === undefined ? '' : `, policy ${policyVersion.slice(0, 12)}`}${reason === undefined ? '' : `: ${reason}`}`;
}

function outcomeWord(call: CallView): string {
  if (call.denied) return 'DENIED';
  switch (call.outcome) {
    case null:
      return 'no outcome';
    case 'ok':
    case 'cancelled':
      return call.outcome;
    default:
      return call.outcome.toUpperCase();
  }
}

/** The time of day (UTC), with the date only when it is not the session's first day. */
function clock(time: string, sessionStart: string): string {
  return time.slice(0, 10) === sessionStart.slice(0, 10) ? time.slice(11) : time;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  if (oneLine.length <= LINE_CHARS) return oneLine;
  return `${oneLine.slice(0, LINE_CHARS)}… (${oneLine.length - LINE_CHARS} more characters; --json shows all)`;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'object' && Object.keys(value).length === 0);
}
