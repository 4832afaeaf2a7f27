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

/**
 * The payload of an `approval.decision` entry that records the answer of the person at the agent's
 * client (see client-user-approval.ts): no approver, no signature but the log's.
 */
export const ClientUserDecisionPayloadSchema = z.looseObject({
  request: z.string().min(1),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().optional(),
  clientUser: z.strictObject({ via: z.enum(['elicitation/create', 'input-required']) }),
});
export type ClientUserDecisionPayload = z.infer<typeof ClientUserDecisionPayloadSchema>;

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

/** Whether a decision entry records the answer of the person at the agent's client rather than an approver's. */
export function isClientUserDecision(decision: Entry): boolean {
  const payload = decision.payload;
  return typeof payload === 'object' && payload !== null && 'clientUser' in payload;
}

/**
 * Checks a client-user decision against the request it names (`requestById` finds the
 * approval.request entry with that id): the log holds it before the decision, its rule accepts
 * such an approval, and the answer was given in the session of the call, for the agent that made it.
 */
function checkClientUserDecision(decision: Entry, requestById: (id: string) => Entry | undefined): { problem: string } | { payload: ClientUserDecisionPayload } {
  const parsed = ClientUserDecisionPayloadSchema.safeParse(decision.payload);
  if (!parsed.success) return { problem: 'is not a well-formed approval decision of the user at the agent\'s client' };
  const payload = parsed.data;
  const request = requestById(payload.request);
  if (request === undefined || request.index > decision.index) return { problem: `names approval request ${payload.request}, which the log does not hold before it` };
  const asked = ApprovalRequestPayloadSchema.safeParse(request.payload);
  if (!asked.success || asked.data.clientUser !== true) {
    return { problem: `is the answer of the user at the agent's client to approval request ${payload.request}, whose rule does not accept one` };
  }
  if (decision.session !== request.session || decision.agent.id !== request.agent.id || decision.agent.subject !== request.agent.subject) {
    return { problem: `answers approval request ${payload.request} for another session or agent than the one whose call it holds` };
  }
  return { payload };
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

/** The approval requests of a log, by entry index (what a signed statement names) and by id (what a client user's answer names). */
export interface RequestLookup {
  byIndex(index: number): { readonly index: number; readonly body: Uint8Array } | undefined;
  byId(id: string): Entry | undefined;
}

export type CheckedDecision =
  | { readonly problem: string }
  | { readonly by: 'client-user'; readonly payload: ClientUserDecisionPayload }
  | { readonly by: 'approver'; readonly payload: ApprovalDecisionPayload; readonly statement: ApprovalStatement };

/** Checks an `approval.decision` entry, an approver's or a client user's, against the request it names. */
export function checkDecision(decision: Entry, requests: RequestLookup): CheckedDecision {
  if (isClientUserDecision(decision)) {
    const checked = checkClientUserDecision(decision, (id) => requests.byId(id));
    return 'problem' in checked ? checked : { by: 'client-user', payload: checked.payload };
  }
  const index = decidedRequestIndex(decision);
  const checked = checkApprovalDecision(decision, index === undefined ? undefined : requests.byIndex(index));
  return 'problem' in checked ? checked : { by: 'approver', ...checked };
}
