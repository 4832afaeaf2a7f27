import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { PolicyDecision } from '../policy/policy-decision.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import { RESOURCE_READ_ANNOTATIONS, toolAnnotations } from '../policy/tool-annotations.js';
import type { CallDecision, SessionIdentity } from './call-recorder.js';
import { heldForApproval } from './held-for-approval.js';
import type { ApprovalChannels, WaitingAgent } from './held-for-approval.js';
import type { UpstreamSet } from './upstream-set.js';

/** A tools/call or resources/read, as the policy is asked about it. */
export interface PolicedCall {
  readonly kind: 'tool' | 'resource';
  readonly server: string;
  /** The upstream's own tool name, or the resource URI. */
  readonly target: string;
  readonly args: unknown;
}

type Refusal = () => Promise<unknown>;

/**
 * Asks the policy about one call and says what the recorder logs (`policy.decision`, and for a
 * call held for approval its `approval.request`) and what the agent gets when the call may not
 * run: for a tool, a tool error whose text the model reads (so it can tell the user, or try
 * something else); for a resource read, a JSON-RPC error. A held call waits for the approvers
 * (`approvals`); without approvers it is refused.
 */
export async function decideCall(
  gate: PolicyGate,
  approvals: ApprovalChannels | undefined,
  who: SessionIdentity,
  upstreams: UpstreamSet,
  call: PolicedCall,
  agent: WaitingAgent,
): Promise<CallDecision> {
  const annotations = call.kind === 'resource' ? RESOURCE_READ_ANNOTATIONS : toolAnnotations(await upstreams.toolAnnotations(call.server, call.target));
  const args = typeof call.args === 'object' && call.args !== null && !Array.isArray(call.args) ? (call.args as Record<string, unknown>) : {};
  const { decision, version } = gate.decide({ agent: who.agent, server: call.server, kind: call.kind, target: call.target, args, annotations });
  const payload = {
    outcome: decision.outcome,
    policyVersion: version,
    ...(decision.rule === undefined ? { default: true } : { rule: decision.rule.id, file: decision.rule.file }),
    reason: decision.reason,
    ...(decision.approval === undefined ? {} : { approval: decision.approval }),
    ...(decision.budgets.length === 0 ? {} : { budgets: decision.budgets }),
    annotations,
  };
  if (decision.outcome === 'allow') return { entries: [{ kind: 'policy.decision', payload }] };
  const refuse = (message: string): Refusal =>
    call.kind === 'tool'
      ? () => Promise.resolve({ content: [{ type: 'text', text: message }], isError: true })
      : () => Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, message));
  if (decision.outcome === 'require_approval' && decision.approval !== undefined && approvals !== undefined) {
    const held = { who, server: call.server, target: call.target, args: call.args, version, rule: decision.rule?.id ?? '', decision: payload };
    return heldForApproval(approvals, decision.approval, held, agent, refuse);
  }
  return { entries: [{ kind: 'policy.decision', payload }], refusal: refuse(messageToAgent(decision)) };
}

function messageToAgent(decision: PolicyDecision): string {
  switch (decision.outcome) {
    case 'require_approval':
      return `AgentTrail policy holds this call for human approval (${decision.reason}), but this gateway has no approvers, so the call was not made.`;
    case 'limit':
      return `AgentTrail policy refused this call: rate limit reached (${decision.reason}).`;
    default:
      return `AgentTrail policy refused this call: ${decision.reason}`;
  }
}
