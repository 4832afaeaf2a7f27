import type { Entry } from '../ledger/entry.js';

/** The entries that share a call's id, grouped by what they say of the call. */
export interface CallLinks<Linked, Credential = Linked> {
  readonly decisions: readonly Linked[];
  readonly approvals: readonly Linked[];
  readonly credentials: readonly Credential[];
  /** Entries of the call of kinds this version does not know. */
  readonly others: readonly Linked[];
}

/**
 * One exchange as a reviewer reads it: the request entry (written ahead of the call) and every
 * entry that carries the same `call` id: its outcome, the policy decision, the approval steps and
 * the credentials it was given.
 */
export interface CallRecord extends CallLinks<Entry> {
  readonly type: 'call';
  readonly request: Entry;
  /** tool.result or mcp.result; undefined when none was recorded (the call never finished). */
  readonly outcome: Entry | undefined;
}

/** An entry that belongs to no call: session start and end, identity changes, key rotations, ... */
export interface EventRecord {
  readonly type: 'event';
  readonly entry: Entry;
}

export type TimelineItem = CallRecord | EventRecord;

/** The kinds of entry that open a call. */
export const REQUEST_KINDS: readonly string[] = ['tool.call', 'mcp.request'];
const OUTCOME_KINDS: readonly string[] = ['tool.result', 'mcp.result'];
export const POLICY_DECISION_KIND = 'policy.decision';
export const APPROVAL_REQUEST_KIND = 'approval.request';
const APPROVAL_KIND_PREFIX = 'approval.';
const CREDENTIAL_KIND = 'credential.delegated';

export function isRequest(entry: Entry): entry is Entry & { call: string } {
  return entry.call !== undefined && REQUEST_KINDS.includes(entry.kind);
}

/** The call of `request` from the entries that share its call id (in index order; the request itself is skipped). */
export function callRecordOf(request: Entry, linked: readonly Entry[]): CallRecord {
  const decisions: Entry[] = [];
  const approvals: Entry[] = [];
  const credentials: Entry[] = [];
  const others: Entry[] = [];
  let outcome: Entry | undefined;
  for (const entry of linked) {
    if (entry.index === request.index) continue;
    if (OUTCOME_KINDS.includes(entry.kind) && outcome === undefined) outcome = entry;
    else if (entry.kind === POLICY_DECISION_KIND) decisions.push(entry);
    else if (entry.kind.startsWith(APPROVAL_KIND_PREFIX)) approvals.push(entry);
    else if (entry.kind === CREDENTIAL_KIND) credentials.push(entry);
    else others.push(entry);
  }
  return { type: 'call', request, outcome, decisions, approvals, credentials, others };
}
