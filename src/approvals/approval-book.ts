import { sha256Hex } from '../ledger/canonical-json.js';
import type { Entry } from '../ledger/entry.js';
import { parseEntryBody } from '../store/entry-queries.js';
import type { StoredLeaf } from '../store/entry-queries.js';
import { ApprovalConsumedPayloadSchema, ApprovalRequestPayloadSchema, checkDecision } from './approval-entries.js';
import type { ApprovalRequestPayload } from './approval-entries.js';
import type { ApproverRegistry } from './approver-registry.js';
import { CLIENT_USER } from './client-user-approval.js';

/** One recorded decision that counts: its approver (by config name), what they decided, where. */
export interface CountedDecision {
  /** The approver's name in the config, or CLIENT_USER. */
  readonly approver: string;
  /** The answer of the person at the agent's client (see client-user-approval.ts), not an approver's. */
  readonly clientUser?: true;
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
  readonly index: number;
  readonly time: string;
}

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

/** An approval request as the log tells it. */
export interface RecordedRequest {
  readonly entry: Entry;
  readonly payload: ApprovalRequestPayload;
  /** Hex SHA-256 of its stored bytes: what approvers sign. */
  readonly sha256: string;
  readonly decisions: CountedDecision[];
  used: boolean;
}

/**
 * The approval requests of a log with the decisions that count for them: signed by a registered
 * approver's key over the stored request, by someone the rule asks who did not make the call, one
 * per approver. What `agenttrail approvals` lists and decides on; the gateway counts the same way.
 */
export function readApprovalBook(
  log: string,
  leaves: { requests: readonly StoredLeaf[]; decisions: readonly StoredLeaf[]; consumed: readonly StoredLeaf[] },
  registry: ApproverRegistry,
): Map<string, RecordedRequest> {
  const book = new Map<string, RecordedRequest>();
  const byIndex = new Map<number, StoredLeaf>();
  for (const leaf of leaves.requests) {
    const entry = parseEntryBody(log, leaf.index, leaf.body);
    const payload = ApprovalRequestPayloadSchema.safeParse(entry.payload);
    if (!payload.success) continue;
    byIndex.set(leaf.index, leaf);
    book.set(payload.data.id, { entry, payload: payload.data, sha256: sha256Hex(leaf.body), decisions: [], used: false });
  }
  const lookup = { byIndex: (index: number) => byIndex.get(index), byId: (id: string) => book.get(id)?.entry };
  for (const leaf of leaves.decisions) {
    const entry = parseEntryBody(log, leaf.index, leaf.body);
    const checked = checkDecision(entry, lookup);
    if ('problem' in checked) continue;
    const request = book.get(checked.payload.request);
    if (request === undefined) continue;
    const { decision, reason } = checked.payload;
    const counted = { decision, ...(reason === undefined ? {} : { reason }), index: leaf.index, time: entry.time };
    if (checked.by === 'client-user') {
      if (!request.decisions.some((made) => made.clientUser)) request.decisions.push({ approver: CLIENT_USER, clientUser: true, ...counted });
      continue;
    }
    const approver = registry.byKey(checked.statement.approver);
    if (approver === undefined) continue;
    if (registry.refusal(approver, { agent: request.entry.agent, approvers: request.payload.approvers }) !== undefined) continue;
    if (request.decisions.some((made) => made.approver === approver.name)) continue;
    request.decisions.push({ approver: approver.name, ...counted });
  }
  for (const leaf of leaves.consumed) {
    const consumed = ApprovalConsumedPayloadSchema.safeParse(parseEntryBody(log, leaf.index, leaf.body).payload);
    const request = consumed.success ? book.get(consumed.data.request) : undefined;
    if (request !== undefined) request.used = true;
  }
  return book;
}

/** Where a request stands at `now`: decided in time, used, or still open. */
export function requestStatus(request: RecordedRequest, now: number): RequestStatus {
  if (request.used) return 'used';
  // A decision made after the request expired came too late to count.
  const decisions = request.decisions.filter((decision) => Date.parse(decision.time) < Date.parse(request.payload.expires));
  if (decisions.some((decision) => decision.decision === 'deny')) return 'denied';
  if (now >= Date.parse(request.payload.expires)) return 'expired';
  const approvals = decisions.filter((decision) => decision.decision === 'approve');
  return approvals.length >= request.payload.count || approvals.some((decision) => decision.clientUser) ? 'approved' : 'pending';
}
