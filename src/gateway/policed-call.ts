import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ApprovalAnnouncer } from '../approvals/approval-notice.js';
import type { ApprovalState, PendingApprovals } from '../approvals/pending-approvals.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import { timeOrderedId } from '../ledger/time-ordered-id.js';
import { durationInWords, durationMs, waitInWords } from '../policy/duration-text.js';
import type { PolicyDecision } from '../policy/policy-decision.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { ApprovalRequirement } from '../policy/policy-schema.js';
import { RESOURCE_READ_ANNOTATIONS, toolAnnotations } from '../policy/tool-annotations.js';
import type { CallDecision, CallRelease, SessionIdentity } from './call-recorder.js';
import type { UpstreamSet } from './upstream-set.js';

/** A tools/call or resources/read, as the policy is asked about it. */
export interface PolicedCall {
  readonly kind: 'tool' | 'resource';
  readonly server: string;
  /** The upstream's own tool name, or the resource URI. */
  readonly target: string;
  readonly args: unknown;
}

/** The agent whose call waits for approval: it may give up, and hears how the wait goes. */
export interface WaitingAgent {
  readonly signal: AbortSignal;
  /** A progress notification, when the agent asked for them (so that its client does not time out). */
  progress(progress: number, total: number, message: string): void;
}

/** Where a held call's approval request goes: the requests open at this gateway, and who is told of new ones. */
export interface ApprovalChannels {
  readonly pending: PendingApprovals;
  readonly announcer?: ApprovalAnnouncer | undefined;
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
    return heldForApproval(approvals, decision.approval, { who, call, version, rule: decision.rule?.id ?? '', payload }, agent, refuse);
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

interface HeldCall {
  readonly who: SessionIdentity;
  readonly call: PolicedCall;
  readonly version: string;
  readonly rule: string;
  readonly payload: Record<string, unknown>;
}

/**
 * A call that waits for approval. The approval request is bound to exactly this call (agent and
 * the person it acts for, server, tool, arguments hash, policy version) and expires; a retry of
 * the same call while it is valid waits on it, or runs at once if it is approved already (so an
 * agent whose client gave up gets its approved call on the next try). An approval is used once.
 */
function heldForApproval({ pending: approvals, announcer }: ApprovalChannels, requirement: ApprovalRequirement, held: HeldCall, agent: WaitingAgent, refuse: (message: string) => Refusal): CallDecision {
  const { who, call, version } = held;
  const binding = {
    agent: who.agent.id ?? '',
    subject: who.agent.subject ?? '',
    server: call.server,
    tool: call.target,
    argsHash: canonicalHash(call.args ?? {}),
    policyVersion: version,
  };
  const started = Date.now();
  const expiresAt = started + (durationMs(requirement.timeout) ?? 0);
  let id = approvals.find(binding);
  const opened = id === undefined;
  if (id === undefined) {
    id = timeOrderedId();
    approvals.open(id, binding, requirement.count, expiresAt);
  }
  const request = id;
  const expires = new Date(expiresAt).toISOString();
  const asked = `${requirement.count === 1 ? 'an approver' : `${requirement.count} different approvers`} from ${requirement.approvers.join(', ')}`;
  const release = (state: ApprovalState): CallRelease => {
    const refused = (why: string): CallRelease => ({ entries: [], refusal: refuse(`AgentTrail policy refused this call: ${why} (approval request ${request}).`) });
    switch (state.state) {
      case 'approved':
        if (!approvals.consume(request)) return refused('its approval was used by another call with the same arguments; call again to ask for a new one');
        return { entries: [{ kind: 'approval.consumed', payload: { request, approvals: state.approvals.map((approval) => approval.entry) } }] };
      case 'denied':
        return refused(`approver ${state.approver} denied it${state.reason === undefined ? '' : `: ${state.reason}`}`);
      case 'expired':
        return refused(`it needed the approval of ${asked} within ${durationInWords(requirement.timeout)}, and ${state.approvals} of ${state.count} approved in time`);
      default:
        return refused('its approval was used by another call with the same arguments; call again to ask for a new one');
    }
  };
  return {
    entries: [
      { kind: 'policy.decision', payload: { ...held.payload, request } },
      ...(opened
        ? [
            {
              kind: 'approval.request',
              payload: {
                id: request,
                policyVersion: version,
                rule: held.rule,
                approvers: requirement.approvers,
                count: requirement.count,
                timeout: requirement.timeout,
                expires,
              },
            },
          ]
        : []),
    ],
    hold: async () => {
      // The request is durable now: whoever is told of it finds it in the log.
      if (opened) {
        announcer?.announce({
          id: request,
          session: who.session,
          agent: who.agent,
          server: call.server,
          tool: call.target,
          argsHash: binding.argsHash,
          policyVersion: version,
          rule: held.rule,
          approvers: requirement.approvers,
          count: requirement.count,
          expires,
          clientUser: false,
        });
      }
      return release(
        await approvals.wait(request, agent.signal, (state) => {
          if (state.state !== 'pending') return;
          const waited = Math.round((Date.now() - started) / 1000);
          const total = Math.round((state.expiresAt - started) / 1000);
          agent.progress(waited, Math.max(total, waited), `waiting for ${asked} to approve (request ${request}): ${state.approvals} of ${state.count} so far, ${waitInWords(state.expiresAt - Date.now())} left`);
        }),
      );
    },
  };
}
