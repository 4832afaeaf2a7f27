import type { StoredLeaf } from '../store/entry-queries.js';
import { parseEntryBody } from '../store/entry-queries.js';
import { ApprovalConsumedPayloadSchema, ApprovalRequestPayloadSchema, checkApprovalDecision, decidedRequestIndex } from './approval-entries.js';

/** The stored entries of one kind, as a verifier reads them. */
export interface EntriesOfKind {
  entriesOfKind(log: string, kind: string): Promise<readonly StoredLeaf[]>;
}

/** The first approval entry of a log that does not hold up, and why. */
export interface ApprovalProblem {
  readonly index: number;
  readonly reason: string;
}

/**
 * Checks what the log says about approvals, beyond the integrity of its entries: each
 * `approval.decision` carries its approver's valid signature over the stored request it names,
 * and each call that ran under an approval (`approval.consumed`) ran under a request that enough
 * distinct approvers approved, once. The keys are checked as the entries name them; whether a key
 * belonged to a registered approver is the gateway's config, which the log does not hold.
 */
export async function findApprovalProblem(rows: EntriesOfKind, log: string): Promise<ApprovalProblem | undefined> {
  const requests = new Map<number, StoredLeaf>();
  const countsById = new Map<string, number>();
  for (const leaf of await rows.entriesOfKind(log, 'approval.request')) {
    requests.set(leaf.index, leaf);
    const payload = ApprovalRequestPayloadSchema.safeParse(parseEntryBody(log, leaf.index, leaf.body).payload);
    if (payload.success) countsById.set(payload.data.id, payload.data.count);
  }
  const approvals = new Map<number, { request: string; key: string }>();
  for (const leaf of await rows.entriesOfKind(log, 'approval.decision')) {
    const entry = parseEntryBody(log, leaf.index, leaf.body);
    const index = decidedRequestIndex(entry);
    const checked = checkApprovalDecision(entry, index === undefined ? undefined : requests.get(index));
    if ('problem' in checked) return { index: leaf.index, reason: `approval decision ${checked.problem}` };
    if (checked.payload.decision === 'approve') approvals.set(leaf.index, { request: checked.payload.request, key: checked.statement.approver });
  }
  const used = new Set<string>();
  for (const leaf of await rows.entriesOfKind(log, 'approval.consumed')) {
    const consumed = ApprovalConsumedPayloadSchema.safeParse(parseEntryBody(log, leaf.index, leaf.body).payload);
    if (!consumed.success) return { index: leaf.index, reason: 'is not a well-formed approval.consumed entry' };
    const { request, approvals: cited } = consumed.data;
    const count = countsById.get(request);
    if (count === undefined) return { index: leaf.index, reason: `a call ran under approval request ${request}, which the log does not hold` };
    if (used.has(request)) return { index: leaf.index, reason: `a second call ran under approval request ${request}, which is single-use` };
    used.add(request);
    const keys = new Set<string>();
    for (const index of cited) {
      const approval = approvals.get(index);
      if (approval === undefined || approval.request !== request || index > leaf.index) {
        return { index: leaf.index, reason: `cites entry ${index} as an approval of request ${request}, which it is not` };
      }
      keys.add(approval.key);
    }
    if (keys.size < count) return { index: leaf.index, reason: `a call ran under approval request ${request} with ${keys.size} distinct approvers of the ${count} it needed` };
  }
  return undefined;
}
