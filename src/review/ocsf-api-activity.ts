import type { AgentIdentity, Entry, EntryOutcome } from '../ledger/entry.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import { agentLabel } from './agent-label.js';
import type { TimelineItem } from './call-record.js';
import { isDenied, policyDecisionOf } from './call-verdict.js';
import { credentialsOf } from './call-view.js';
import { summarizeOutcome } from './result-summary.js';

/**
 * OCSF 1.x "API Activity" (class 6003, category 6 Application Activity) events for the log: one per
 * call (its request joined with its outcome, decision, approvals and credentials) and one per
 * entry outside any call (session start and end, identity and key changes). The event's
 * metadata.uid and unmapped.agenttrail name the ledger entries, so a SIEM finding leads back to
 * the signed record (agenttrail show, export --format bundle).
 */

const OCSF_SCHEMA_VERSION = '1.3.0';
const CATEGORY_APPLICATION_ACTIVITY = 6;
const CLASS_API_ACTIVITY = 6003;

const ACTIVITY = { read: { id: 2, name: 'Read' }, other: { id: 99, name: 'Other' } } as const;
const STATUS = { unknown: { id: 0, name: 'Unknown' }, success: { id: 1, name: 'Success' }, failure: { id: 2, name: 'Failure' } } as const;
const SEVERITY = { informational: { id: 1, name: 'Informational' }, low: { id: 2, name: 'Low' }, medium: { id: 3, name: 'Medium' } } as const;

// MCP methods that only read; every other call may change something, and says which in activity_name.
const READ_METHODS = /^(tools|resources|prompts)\/(list|read|get)$|^resources\/templates\/list$|^completion\/complete$/;

export interface OcsfApiActivity {
  readonly category_uid: number;
  readonly category_name: string;
  readonly class_uid: number;
  readonly class_name: string;
  readonly activity_id: number;
  readonly activity_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  readonly severity_id: number;
  readonly severity: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly start_time?: number;
  readonly end_time?: number;
  readonly duration?: number;
  readonly status_id?: number;
  readonly status?: string;
  readonly status_code?: string;
  readonly status_detail?: string;
  readonly message: string;
  readonly metadata: Record<string, unknown>;
  readonly actor: Record<string, unknown>;
  readonly api: Record<string, unknown>;
  readonly src_endpoint: Record<string, unknown>;
  readonly dst_endpoint?: Record<string, unknown>;
  readonly resources?: readonly Record<string, unknown>[];
  readonly unmapped: Record<string, unknown>;
}

export function ocsfEventOf(item: TimelineItem, log: string): OcsfApiActivity {
  return item.type === 'call' ? callEvent(item, log) : standaloneEvent(item.entry, log);
}

function callEvent(call: Extract<TimelineItem, { type: 'call' }>, log: string): OcsfApiActivity {
  const { request, outcome } = call;
  const method = request.method ?? request.kind;
  const activity = READ_METHODS.test(method) ? ACTIVITY.read : { id: ACTIVITY.other.id, name: method };
  const denied = isDenied(call);
  const status = outcome === undefined && !denied ? STATUS.unknown : outcome?.outcome === 'ok' && !denied ? STATUS.success : STATUS.failure;
  const severity = denied ? SEVERITY.medium : status === STATUS.failure ? SEVERITY.low : SEVERITY.informational;
  const summary = summarizeOutcome(call);
  const target = request.name ?? request.tool;
  const decision = call.decisions.map(policyDecisionOf).find((found) => found !== undefined);
  return {
    ...classification(activity, severity),
    time: Date.parse(request.time),
    start_time: Date.parse(request.time),
    ...(outcome === undefined ? {} : { end_time: Date.parse(outcome.time) }),
    ...(outcome?.durationMs === undefined ? {} : { duration: Math.round(outcome.durationMs) }),
    status_id: status.id,
    status: status.name,
    ...(outcome?.outcome === undefined ? {} : { status_code: outcome.outcome }),
    ...(status === STATUS.failure ? { status_detail: summary } : {}),
    message: `${agentLabel(request.agent)} ${method}${target === undefined ? '' : ` ${target}`}: ${outcomeWord(outcome?.outcome, denied)}`,
    metadata: metadataOf(request, log),
    actor: actorOf(request),
    api: {
      operation: method,
      ...(request.server === undefined ? {} : { service: { name: request.server } }),
      request: { uid: request.call },
      ...(outcome === undefined ? {} : { response: { message: summary, ...(status === STATUS.failure ? { error: outcome.outcome } : {}) } }),
    },
    src_endpoint: sourceOf(request.agent),
    ...(request.server === undefined ? {} : { dst_endpoint: { svc_name: request.server } }),
    ...(target === undefined ? {} : { resources: [{ name: target, type: resourceTypeOf(method) }] }),
    unmapped: {
      agenttrail: {
        log,
        session: request.session,
        call: request.call,
        entries: [request.index, ...(outcome === undefined ? [] : [outcome.index])],
        ...(request.argsHash === undefined ? {} : { args_hash: request.argsHash }),
        ...(request.tool === undefined ? {} : { upstream_name: request.tool }),
        ...(decision === undefined ? {} : { policy_decision: decision }),
        approvals: call.approvals.map((entry) => ({ index: entry.index, kind: entry.kind })),
        credentials: credentialsOf(call).map(({ name, carrier, fingerprint }) => ({ name, carrier, fingerprint })),
        agent: request.agent,
      },
    },
  };
}

function standaloneEvent(entry: Entry, log: string): OcsfApiActivity {
  const failed = entry.outcome !== undefined && entry.outcome !== 'ok';
  const status = entry.outcome === undefined ? undefined : failed ? STATUS.failure : STATUS.success;
  return {
    ...classification({ id: ACTIVITY.other.id, name: entry.kind }, failed || entry.kind.endsWith('.refused') ? SEVERITY.low : SEVERITY.informational),
    time: Date.parse(entry.time),
    ...(status === undefined ? {} : { status_id: status.id, status: status.name }),
    message: `${agentLabel(entry.agent)} ${entry.kind}`,
    metadata: metadataOf(entry, log),
    actor: actorOf(entry),
    api: { operation: entry.kind, ...(entry.server === undefined ? {} : { service: { name: entry.server } }) },
    src_endpoint: sourceOf(entry.agent),
    unmapped: { agenttrail: { log, session: entry.session, entries: [entry.index], agent: entry.agent, payload: entry.payload ?? null } },
  };
}

function classification(activity: { id: number; name: string }, severity: { id: number; name: string }) {
  return {
    category_uid: CATEGORY_APPLICATION_ACTIVITY,
    category_name: 'Application Activity',
    class_uid: CLASS_API_ACTIVITY,
    class_name: 'API Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: CLASS_API_ACTIVITY * 100 + activity.id,
    type_name: `API Activity: ${activity.name}`,
    severity_id: severity.id,
    severity: severity.name,
  };
}

function metadataOf(entry: Entry, log: string): Record<string, unknown> {
  return {
    version: OCSF_SCHEMA_VERSION,
    product: { name: 'AgentTrail', vendor_name: 'AgentTrail', version: AGENTTRAIL_VERSION },
    uid: `${log}/${entry.index}`,
    log_name: log,
    original_time: entry.time,
    correlation_uid: entry.session,
    event_code: entry.kind,
  };
}

/** The agent: always its session, and whatever identity it proved or the transport told. */
function actorOf(entry: Entry): Record<string, unknown> {
  const { agent } = entry;
  const userName = agent.subject ?? agent.id ?? agent.user;
  return {
    session: { uid: entry.session },
    ...(userName === undefined ? {} : { user: { name: userName, ...(agent.id === undefined ? {} : { uid: agent.id }) } }),
    ...(agent.client === undefined ? {} : { app_name: `${agent.client.name} ${agent.client.version}` }),
    ...(agent.id === undefined ? {} : { app_uid: agent.id }),
  };
}

function sourceOf(agent: AgentIdentity): Record<string, unknown> {
  return { name: agentLabel(agent), svc_name: `mcp-${agent.transport}`, ...(agent.remote === undefined ? {} : { ip: agent.remote }) };
}

function resourceTypeOf(method: string): string {
  if (method.startsWith('tools/')) return 'MCP tool';
  if (method.startsWith('prompts/')) return 'MCP prompt';
  if (method.startsWith('resources/')) return 'MCP resource';
  return 'MCP';
}

function outcomeWord(outcome: EntryOutcome | undefined, denied: boolean): string {
  if (denied) return 'denied';
  return outcome ?? 'no outcome recorded';
}
