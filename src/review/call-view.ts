import { z } from 'zod';
import type { Entry, EntryOutcome } from '../ledger/entry.js';
import type { CallLinks, CallRecord, TimelineItem } from './call-record.js';
import { isDenied } from './call-verdict.js';
import { summarizeOutcome } from './result-summary.js';

/** A call as `show --json` prints it: what a reviewer reads, with the recorded payloads in full. */
export interface CallView extends CallLinks<LinkedEntryView, CredentialView> {
  readonly type: 'call';
  /** The index of the request entry. */
  readonly index: number;
  readonly time: string;
  readonly method: string;
  readonly server: string | null;
  readonly tool: string | null;
  /** The name the agent used, e.g. `everything__echo`. */
  readonly name: string | null;
  readonly call: string;
  /** `server` for requests an upstream sent to the agent (elicitation, sampling, roots). */
  readonly direction: 'agent' | 'server';
  readonly arguments: unknown;
  readonly argsHash: string | null;
  readonly outcome: EntryOutcome | null;
  readonly denied: boolean;
  readonly ended: string | null;
  readonly durationMs: number | null;
  /** One line: the result's text, what it holds, or the error. */
  readonly result: string;
  /** The recorded outcome payload (`{result}` or `{error}`), redacted as it was recorded. */
  readonly resultPayload: unknown;
  /** The indexes of every entry of the call. */
  readonly entries: readonly number[];
}

export interface EventView {
  readonly type: 'event';
  readonly index: number;
  readonly time: string;
  readonly kind: string;
  readonly payload: unknown;
}

export interface LinkedEntryView {
  readonly index: number;
  readonly time: string;
  readonly kind: string;
  readonly payload: unknown;
}

/** A credential the gateway handed to the upstream for the call: its fingerprint, never its value. */
const CredentialViewSchema = z.looseObject({
  name: z.string(),
  carrier: z.string(),
  fingerprint: z.string(),
  scope: z.string().optional(),
  expires: z.string().optional(),
});
export type CredentialView = z.infer<typeof CredentialViewSchema> & { readonly index: number };

const RequestPayloadSchema = z.looseObject({
  direction: z.literal('server').optional(),
  params: z.looseObject({ arguments: z.unknown().optional() }).optional(),
});

export function viewOf(item: TimelineItem): CallView | EventView {
  if (item.type === 'event') {
    const { index, time, kind, payload } = item.entry;
    return { type: 'event', index, time, kind, payload: payload ?? null };
  }
  const { request, outcome } = item;
  const linked = [...item.decisions, ...item.approvals, ...item.credentials, ...item.others, ...(outcome === undefined ? [] : [outcome])];
  return {
    type: 'call',
    index: request.index,
    time: request.time,
    method: request.method ?? request.kind,
    server: request.server ?? null,
    tool: request.tool ?? null,
    name: request.name ?? null,
    call: request.call!,
    direction: RequestPayloadSchema.safeParse(request.payload).data?.direction ?? 'agent',
    arguments: argumentsOf(request),
    argsHash: request.argsHash ?? null,
    outcome: outcome?.outcome ?? null,
    denied: isDenied(item),
    ended: outcome?.time ?? null,
    durationMs: outcome?.durationMs ?? null,
    result: summarizeOutcome(item),
    resultPayload: outcome?.payload ?? null,
    decisions: item.decisions.map(linkedView),
    approvals: item.approvals.map(linkedView),
    credentials: item.credentials.map(credentialView),
    others: item.others.map(linkedView),
    entries: [request.index, ...linked.map((entry) => entry.index)].sort((a, b) => a - b),
  };
}

/** What the agent asked for: a tool's arguments, or the request's params. */
export function argumentsOf(request: Entry): unknown {
  const params = RequestPayloadSchema.safeParse(request.payload).data?.params;
  if (params === undefined) return null;
  return request.method === 'tools/call' ? (params.arguments ?? {}) : params;
}

/** The credentials the gateway handed to the upstream for a call. */
export function credentialsOf(call: CallRecord): CredentialView[] {
  return call.credentials.map(credentialView);
}

const DelegationPayloadSchema = z.object({ credential: CredentialViewSchema });

function credentialView(entry: Entry): CredentialView {
  const parsed = DelegationPayloadSchema.safeParse(entry.payload);
  if (parsed.success) return { ...parsed.data.credential, index: entry.index };
  return { index: entry.index, name: '(not named in the entry)', carrier: '', fingerprint: '' };
}

function linkedView(entry: Entry): LinkedEntryView {
  return { index: entry.index, time: entry.time, kind: entry.kind, payload: entry.payload ?? null };
}
