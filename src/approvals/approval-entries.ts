import { z } from 'zod';
import { sha256Hex } from '../ledger/canonical-json.js';
import type { Entry } from '../ledger/entry.js';
import { approvalSignatureHolds, ApprovalStatementSchema } from './approval-statement.js';
import type { ApprovalStatement } from './approval-statement.js';

/** The payload of an `approval.request` entry; the entry itself names agent, server, tool and argsHash. */
export const ApprovalRequestPayloadSchema = z.looseObject({
  id: z.string().min(1),
  policyVersion: z.string(),
  rule: z.string(),
  approvers: z.array(z.string()),
  count: z.number().int().positive(),
  timeout: z.string(),
  expires: z.iso.datetime({ precision: 3 }),
  /** The rule accepts the approval of the person at the agent's client (a weaker one: see client-user-approval.ts). */
  clientUser: z.boolean().optional(),
});
export type ApprovalRequestPayload = z.infer<typeof ApprovalRequestPayloadSchema>;

/** The payload of an `approval.decision` entry: the approver's signed statement and its signature. */
export const ApprovalDecisionPayloadSchema = z.looseObject({
  request: z.string().min(1),
  decision: z.enum(['approve', 'deny']),
  /** The approver's name in the config. */
  approver: z.string().min(1),
  reason: z.string().optional(),
  statement: ApprovalStatementSchema,
  signature: z.string().min(1),
});
export type ApprovalDecisionPayload = z.infer<typeof ApprovalDecisionPayloadSchema>;

/** The payload of an `approval.consumed` entry: the approval a call ran under (it is used up). */
export const ApprovalConsumedPayloadSchema = z.looseObject({
  request: z.string().min(1),
  /** The indexes of the approval.decision entries that approved it. */
  approvals: z.array(z.number().int().nonnegative()),
});

/** The index of the approval.request entry that a decision entry says it decides. */
export function decidedRequestIndex(decision: Entry): number | undefined {
  const index = (decision.payload as { statement?: { request?: { index?: unknown } } } | undefined)?.statement?.request?.index;
  return typeof index === 'number' ? index : undefined;
}

/**
 * Checks a decision entry against the stored request it names: the statement is the one the entry
 * says (decision, reason, request id), it names this request entry by index and SHA-256 of its
 * stored bytes, and the approver's signature over it holds. Returns what is wrong, or the statement.
 */
export function checkApprovalDecision(
  decision: Entry,
  request: { readonly index: number; readonly body: Uint8Array } | undefined,
): { problem: string } | { statement: ApprovalStatement; payload: ApprovalDecisionPayload } {
  const parsed = ApprovalDecisionPayloadSchema.safeParse(decision.payload);
  if (!parsed.success) return { problem: 'is not a well-formed approval decision' };
  const payload = parsed.data;
  const { statement } = payload;
  if (statement.decision !== payload.decision || statement.request.id !== payload.request || statement.reason !== payload.reason) {
    return { problem: 'says another decision than the statement its approver signed' };
  }
  if (request === undefined || request.index !== statement.request.index) {
    return { problem: `names approval request entry ${statement.request.index}, which is not an approval.request of this log` };
  }
  if (sha256Hex(request.body) !== statement.request.sha256 || requestIdOf(request.body) !== statement.request.id) {
    return { problem: `was signed over another approval request than entry ${request.index} holds` };
  }
  if (!approvalSignatureHolds(statement, payload.signature)) return { problem: `carries a signature that approver key ${statement.approver} did not make` };
  return { statement, payload };
}

function requestIdOf(body: Uint8Array): string | undefined {
  try {
    const entry = JSON.parse(new TextDecoder().decode(body)) as { payload?: unknown };
    return ApprovalRequestPayloadSchema.safeParse(entry.payload).data?.id;
  } catch {
    return undefined;
  }
}
