import type { Entry } from '../ledger/entry.js';
import type { StoredLeaf } from '../store/entry-queries.js';
import { parseEntryBody } from '../store/entry-queries.js';
import { ApprovalConsumedPayloadSchema, ApprovalRequestPayloadSchema, checkDecision } from './approval-entries.js';

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
 * `approval.decision` carries its approver's valid signature over the stored request it names (or
 * is the answer of the user at the agent's client, to a request whose rule accepts one), and each
 * call that ran under an approval (`approval.consumed`) ran under a request that enough distinct
 * approvers approved (or its client user, where the rule accepts that), once. The keys are
 * checked as the entries name them; whether a key belonged to a registered approver is the
 * gateway's config, which the log does not hold.
 */
export async function findApprovalProblem(rows: EntriesOfKind, log: string): Promise<ApprovalProblem | undefined> {
  const requests = new Map<number, StoredLeaf>();
  const requestsById = new Map<string, Entry>();
  const countsById = new Map<string, number>();
  for (const leaf of await rows.entriesOfKind(log, 'approval.request')) {
    requests.set(leaf.index, leaf);
    const entry = parseEntryBody(log, leaf.index, leaf.body);
    const payload = ApprovalRequestPayloadSchema.safeParse(entry.payload);
    if (!payload.success) continue;
    countsById.set(payload.data.id, payload.data.count);
    requestsById.set(payload.data.id, entry);
  }
  // An approver's approval by their key; the client user's, which is enough where it counts, by none.
  const approvals = new Map<number, { request: string; key?: string }>();
  const lookup = { byIndex: (index: number) => requests.get(index), byId: (id: string) => requestsById.get(id) };
  for (const leaf of await rows.entriesOfKind(log, 'approval.decision')) {
    const checked = checkDecision(parseEntryBody(log, leaf.index, leaf.body), lookup);
    if ('problem' in checked) return { index: leaf.index, reason: `approval decision ${checked.problem}` };
    if (checked.payload.decision !== 'approve') continue;
    approvals.set(leaf.index, { request: checked.payload.request, ...(checked.by === 'approver' ? { key: checked.statement.approver } : {}) });
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
    let byClientUser = false;
    for (const index of cited) {
      const approval = approvals.get(index);
      if (approval === undefined || approval.request !== request || index > leaf.index) {
        return { index: leaf.index, reason: `cites entry ${index} as an approval of request ${request}, which it is not` };
      }
      if (approval.key === undefined) byClientUser = true;
      else keys.add(approval.key);
    }
    if (!byClientUser && keys.size < count) return { index: leaf.index, reason: `a call ran under approval request ${request} with ${keys.size} distinct approvers of the ${count} it needed` };
  }
  return undefined;
}
