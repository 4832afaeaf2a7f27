import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Entry } from '../ledger/entry.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import { agentLabel } from './agent-label.js';
import type { CallRecord, TimelineItem } from './call-record.js';
import { isDenied, policyDecisionOf } from './call-verdict.js';
import { credentialsOf } from './call-view.js';
import { summarizeOutcome } from './result-summary.js';
import type { SessionSummary } from './session-summaries.js';

/**
 * OpenTelemetry spans (OTLP/JSON encoding) for recorded sessions: a session is a trace whose root
 * span covers it, each call a child span named and attributed after the semantic conventions for
 * MCP (`mcp.method.name`, `gen_ai.tool.name`, `mcp.session.id`), with its policy decision,
 * approvals and credentials as span events. Trace and span ids are derived from the log, session
 * and call ids, so exporting the same session twice gives the same ids.
 */

export interface OtlpAttribute {
  readonly key: string;
  readonly value: OtlpValue;
}
type OtlpValue =
  | { readonly stringValue: string }
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly boolValue: boolean }
  | { readonly arrayValue: { readonly values: readonly OtlpValue[] } };

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly OtlpAttribute[];
  readonly events: readonly { readonly timeUnixNano: string; readonly name: string; readonly attributes: readonly OtlpAttribute[] }[];
  readonly status: { readonly code: number; readonly message?: string };
}

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_SERVER = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;
// Attribute values a trace viewer shows whole; the full record is in the log.
const MAX_TEXT_ATTRIBUTE = 1024;

/** The span that stands for the whole session: the parent of its calls. */
export function sessionSpan(log: string, summary: SessionSummary): OtlpSpan {
  return {
    traceId: traceIdOf(log, summary.session),
    spanId: sessionSpanIdOf(log, summary.session),
    name: 'mcp session',
    kind: SPAN_KIND_SERVER,
    startTimeUnixNano: nanosOf(summary.started),
    endTimeUnixNano: nanosOf(summary.ended),
    attributes: attributes({
      'mcp.session.id': summary.session,
      'agenttrail.log': log,
      'agenttrail.agent': agentLabel(summary.agent),
      'agenttrail.agent.id': summary.agent.id,
      'agenttrail.agent.subject': summary.agent.subject,
      'client.address': summary.agent.remote,
      'mcp.protocol.version': summary.agent.protocol,
      'agenttrail.calls': summary.calls,
      'agenttrail.denials': summary.denials,
      'agenttrail.approvals': summary.approvals,
      'agenttrail.errors': summary.errors,
    }),
    events: [],
    status: { code: summary.errors + summary.denials > 0 ? STATUS_ERROR : STATUS_UNSET },
  };
}

/** A call as a child span of its session's span; an entry outside any call as an instant span. */
export function itemSpan(log: string, item: TimelineItem): OtlpSpan {
  return item.type === 'call' ? callSpan(log, item) : eventSpan(log, item.entry);
}

function callSpan(log: string, call: CallRecord): OtlpSpan {
  const { request, outcome } = call;
  const method = request.method ?? request.kind;
  const target = request.tool ?? request.name;
  const denied = isDenied(call);
  const failed = denied || (outcome !== undefined && outcome.outcome !== 'ok');
  const start = nanosOf(request.time);
  const end =
    outcome === undefined ? start : outcome.durationMs === undefined ? nanosOf(outcome.time) : String(BigInt(start) + BigInt(Math.round(outcome.durationMs * 1e6)));
  const decision = call.decisions.map(policyDecisionOf).find((found) => found !== undefined);
  const summary = summarizeOutcome(call);
  return {
    traceId: traceIdOf(log, request.session),
    spanId: spanIdOf(log, request.call!),
    parentSpanId: sessionSpanIdOf(log, request.session),
    name: target === undefined || !/^(tools\/call|prompts\/get)$/.test(method) ? method : `${method} ${target}`,
    kind: SPAN_KIND_SERVER,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: attributes({
      'mcp.method.name': method,
      'mcp.session.id': request.session,
      'mcp.protocol.version': request.agent.protocol,
      'gen_ai.tool.name': method === 'tools/call' ? request.tool : undefined,
      'gen_ai.operation.name': method === 'tools/call' ? 'execute_tool' : undefined,
      'gen_ai.prompt.name': method === 'prompts/get' ? request.tool : undefined,
      'mcp.resource.uri': method.startsWith('resources/') ? request.tool : undefined,
      'error.type': failed ? (denied ? 'denied' : outcome?.outcome) : undefined,
      'agenttrail.log': log,
      'agenttrail.call': request.call,
      'agenttrail.server': request.server,
      'agenttrail.name': request.name,
      'agenttrail.agent': agentLabel(request.agent),
      'agenttrail.entry.index': request.index,
      'agenttrail.args_hash': request.argsHash,
      'agenttrail.outcome': outcome?.outcome ?? 'none',
      'agenttrail.result': truncated(summary),
      'agenttrail.policy.decision': decision?.outcome,
      'agenttrail.policy.rule': decision?.rule,
      'agenttrail.credentials': credentialsOf(call).map((credential) => credential.name),
    }),
    events: [...call.decisions, ...call.approvals, ...call.credentials].map((entry) => ({
      timeUnixNano: nanosOf(entry.time),
      name: entry.kind,
      attributes: attributes({ 'agenttrail.entry.index': entry.index, 'agenttrail.payload': truncated(JSON.stringify(entry.payload ?? null)) }),
    })),
    status: failed ? { code: STATUS_ERROR, message: truncated(summary) } : { code: STATUS_UNSET },
  };
}

function eventSpan(log: string, entry: Entry): OtlpSpan {
  const time = nanosOf(entry.time);
  return {
    traceId: traceIdOf(log, entry.session),
    spanId: idOf(`${log}\nentry\n${entry.index}`, 8),
    parentSpanId: sessionSpanIdOf(log, entry.session),
    name: entry.kind,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: time,
    endTimeUnixNano: time,
    attributes: attributes({
      'mcp.session.id': entry.session,
      'agenttrail.log': log,
      'agenttrail.entry.index': entry.index,
      'agenttrail.payload': truncated(JSON.stringify(entry.payload ?? null)),
    }),
    events: [],
    status: { code: entry.outcome === undefined || entry.outcome === 'ok' ? STATUS_UNSET : STATUS_ERROR },
  };
}

/** An OTLP/HTTP JSON request body (ExportTraceServiceRequest) for spans of one log. */
export function traceRequestBody(log: string, spans: readonly OtlpSpan[]): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes({ 'service.name': 'agenttrail', 'service.version': AGENTTRAIL_VERSION, 'agenttrail.log': log }) },
        scopeSpans: [{ scope: { name: 'agenttrail', version: AGENTTRAIL_VERSION }, spans }],
      },
    ],
  };
}

function traceIdOf(log: string, session: string): string {
  return idOf(`${log}\nsession\n${session}`, 16);
}

function sessionSpanIdOf(log: string, session: string): string {
  return idOf(`${log}\nsession span\n${session}`, 8);
}

function spanIdOf(log: string, call: string): string {
  return idOf(`${log}\ncall\n${call}`, 8);
}

function idOf(text: string, bytes: number): string {
  return bytesToHex(sha256(new TextEncoder().encode(text)).slice(0, bytes));
}

function nanosOf(isoTime: string): string {
  return String(BigInt(Date.parse(isoTime)) * 1_000_000n);
}

function truncated(text: string): string {
  return text.length <= MAX_TEXT_ATTRIBUTE ? text : `${text.slice(0, MAX_TEXT_ATTRIBUTE)}…`;
}

/** OTLP attributes from plain values; undefined ones are left out. */
function attributes(values: Record<string, string | number | boolean | readonly string[] | undefined>): OtlpAttribute[] {
  return Object.entries(values).flatMap(([key, value]) => (value === undefined ? [] : [{ key, value: otlpValue(value) }]));
}

function otlpValue(value: string | number | boolean | readonly string[]): OtlpValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { arrayValue: { values: value.map((text) => ({ stringValue: text })) } };
}
