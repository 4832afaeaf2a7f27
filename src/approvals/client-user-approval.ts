import type { ClientCapabilities, ElicitRequestFormParams } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AgentIdentity } from '../ledger/entry.js';
import type { ClientUserDecisionPayload } from './approval-entries.js';

/**
 * The approval of the person at the agent's client, asked through MCP elicitation, is weaker than
 * an approver's: nobody signs it but the gateway, and the person asked may be the one the agent
 * works for, or the agent itself answering its own question. So it counts only where the rule says
 * `clientUser: true`, is recorded as such (an approval.decision with `clientUser`), and is never
 * mistaken for an approver's decision.
 */
export const CLIENT_USER = "the user at the agent's client";

/** How the question reached them: a 2025-11-25 request on the session, or a 2026-07-28 input-required result. */
export type ClientUserVia = ClientUserDecisionPayload['clientUser']['via'];

/** What the person answered; a cancelled or malformed answer is none. */
export interface ClientUserAnswer {
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
}

/** Whether a client takes form-mode elicitation: `elicitation: {}` (form, by default) or `{ form: {} }`. */
export function acceptsElicitationForm(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
  if (elicitation === undefined) return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

const MAX_SHOWN_ARGUMENTS = 500;

/** What the call is, in the words the question shows. */
export interface HeldCallSummary {
  readonly agent: AgentIdentity;
  readonly server: string;
  readonly tool: string;
  readonly args: unknown;
  readonly rule: string;
  readonly reason: string;
  readonly expires: string;
}

/** The question: approve or deny, with an optional reason. */
export function approvalQuestion(call: HeldCallSummary): ElicitRequestFormParams {
  const args = JSON.stringify(call.args ?? {});
  const shown = args.length > MAX_SHOWN_ARGUMENTS ? `${args.slice(0, MAX_SHOWN_ARGUMENTS)}…` : args;
  const who = call.agent.id === undefined ? 'The agent' : `Agent "${call.agent.id}"`;
  return {
    mode: 'form',
    message:
      `AgentTrail holds a call for approval. ${who} wants to call ${call.tool} on ${call.server} with ${shown}. ` +
      `${call.reason} (rule ${call.rule}). Unless it is approved by ${call.expires}, it is refused.`,
    requestedSchema: {
      type: 'object',
      properties: {
        decision: {
          type: 'string',
          title: 'Your decision',
          oneOf: [
            { const: 'approve', title: 'Approve: let the call run' },
            { const: 'deny', title: 'Deny: refuse the call' },
          ],
        },
        reason: { type: 'string', title: 'Why (optional; the agent reads it when you deny)', maxLength: 500 },
      },
      required: ['decision'],
    },
  };
}

const ElicitAnswerSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('accept'), content: z.object({ decision: z.enum(['approve', 'deny']), reason: z.string().min(1).max(500).optional() }) }),
  z.object({ action: z.literal('decline') }),
  z.object({ action: z.literal('cancel') }),
]);

/** Their answer to `approvalQuestion`: declining it denies; cancelling it (or a malformed answer) decides nothing. */
export function clientUserAnswer(response: unknown): ClientUserAnswer | undefined {
  const parsed = ElicitAnswerSchema.safeParse(response);
  if (!parsed.success || parsed.data.action === 'cancel') return undefined;
  if (parsed.data.action === 'decline') return { decision: 'deny', reason: 'declined' };
  const { decision, reason } = parsed.data.content;
  return { decision, ...(reason === undefined ? {} : { reason }) };
}

/** The payload of the approval.decision entry that records their answer. */
export function clientUserDecisionPayload(request: string, answer: ClientUserAnswer, via: ClientUserVia): ClientUserDecisionPayload {
  return { request, decision: answer.decision, ...(answer.reason === undefined ? {} : { reason: answer.reason }), clientUser: { via } };
}
