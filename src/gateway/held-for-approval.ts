import type { ElicitRequestFormParams, Result } from '@modelcontextprotocol/server';
import type { ApprovalAnnouncer } from '../approvals/approval-notice.js';
import { approvalQuestion, CLIENT_USER, clientUserAnswer, clientUserDecisionPayload } from '../approvals/client-user-approval.js';
import type { ClientUserAnswer, ClientUserVia } from '../approvals/client-user-approval.js';
import type { ApprovalState, PendingApprovals } from '../approvals/pending-approvals.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import { timeOrderedId } from '../ledger/time-ordered-id.js';
import { durationInWords, durationMs, waitInWords } from '../policy/duration-text.js';
import type { ApprovalRequirement } from '../policy/policy-schema.js';
import type { CallDecision, CallEntryWriter, CallRelease, SessionIdentity } from './call-recorder.js';

/** Where a held call's approval request goes: the requests open at this gateway, and who is told of new ones. */
export interface ApprovalChannels {
  readonly pending: PendingApprovals;
  readonly announcer?: ApprovalAnnouncer | undefined;
}

/** How the person at the agent's client is asked to approve a held call, in the form its revision allows. */
export type ClientUserPrompt =
  /** A 2025-11-25 session: an elicitation/create request while the call waits; resolves with the answer. */
  | { readonly via: 'elicitation/create'; ask(question: ElicitRequestFormParams, signal: AbortSignal, timeoutMs: number): Promise<unknown> }
  /** A 2026-07-28 request: the question is the call's input-required result, and the retry brings the answer. */
  | {
      readonly via: 'input-required';
      /** The answer this request carries, with the approval request its sealed requestState names. */
      readonly answered: { readonly request: string; readonly response: unknown } | undefined;
      /** The input-required result that asks `question`, with a requestState sealed for `request`. */
      ask(request: string, question: ElicitRequestFormParams): Promise<Result>;
    };

/** The agent whose call waits for approval: it may give up, and hears how the wait goes. */
export interface WaitingAgent {
  readonly signal: AbortSignal;
  /** A progress notification, when the agent asked for them (so that its client does not time out). */
  progress(progress: number, total: number, message: string): void;
  /** How its user can be asked; absent when its client cannot be (no form elicitation). */
  readonly user?: ClientUserPrompt | undefined;
}

/** A call the policy holds, and what the policy said about it. */
export interface HeldCall {
  readonly who: SessionIdentity;
  readonly server: string;
  /** The upstream's own tool name, or the resource URI. */
  readonly target: string;
  readonly args: unknown;
  readonly version: string;
  readonly rule: string;
  /** The payload of its policy.decision entry. */
  readonly decision: Record<string, unknown> & { readonly reason: string };
}

/**
 * A call that waits for approval. The approval request is bound to exactly this call (agent and
 * the person it acts for, server, tool, arguments hash, policy version) and expires; a retry of
 * the same call while it is valid waits on it, or runs at once if it is approved already (so an
 * agent whose client gave up gets its approved call on the next try). An approval is used once.
 * Where the rule accepts it and the agent's client can be asked, the user at the client may
 * approve or deny it too, while the approvers can still decide.
 */
export function heldForApproval(
  { pending: approvals, announcer }: ApprovalChannels,
  requirement: ApprovalRequirement,
  held: HeldCall,
  agent: WaitingAgent,
  refuse: (message: string) => () => Promise<unknown>,
): CallDecision {
  const { who, version } = held;
  const binding = {
    agent: who.agent.id ?? '',
    subject: who.agent.subject ?? '',
    server: held.server,
    tool: held.target,
    argsHash: canonicalHash(held.args ?? {}),
    policyVersion: version,
  };
  const started = Date.now();
  let id = approvals.find(binding);
  const opened = id === undefined;
  if (id === undefined) {
    id = timeOrderedId();
    approvals.open(id, binding, requirement.count, started + (durationMs(requirement.timeout) ?? 0), requirement.clientUser);
  }
  const request = id;
  const expiresAt = approvals.expiresAt(request) ?? started;
  const expires = new Date(expiresAt).toISOString();
  const asked = `${requirement.count === 1 ? 'an approver' : `${requirement.count} different approvers`} from ${requirement.approvers.join(', ')}`;
  const release = (state: ApprovalState): CallRelease => {
    const refused = (why: string): CallRelease => ({ entries: [], refusal: refuse(`AgentTrail policy refused this call: ${why} (approval request ${request}).`) });
    switch (state.state) {
      case 'approved':
        if (!approvals.consume(request)) return refused('its approval was used by another call with the same arguments; call again to ask for a new one');
        return { entries: [{ kind: 'approval.consumed', payload: { request, approvals: state.approvals.map((approval) => approval.entry) } }] };
      case 'denied':
        return refused(`${state.by} denied it${state.reason === undefined ? '' : `: ${state.reason}`}`);
      case 'expired':
        return refused(`it needed the approval of ${asked} within ${durationInWords(requirement.timeout)}, and ${state.approvals} of ${state.count} approved in time`);
      default:
        return refused('its approval was used by another call with the same arguments; call again to ask for a new one');
    }
  };
  const wait = (signal: AbortSignal) =>
    approvals.wait(request, signal, (state) => {
      if (state.state !== 'pending') return;
      const waited = Math.round((Date.now() - started) / 1000);
      const total = Math.round((state.expiresAt - started) / 1000);
      agent.progress(waited, Math.max(total, waited), `waiting for ${asked} to approve (request ${request}): ${state.approvals} of ${state.count} so far, ${waitInWords(state.expiresAt - Date.now())} left`);
    });
  // Called once the request is durable, so that whoever is told of it finds it in the log.
  const announce = () => {
    if (!opened) return;
    announcer?.announce({
      id: request,
      session: who.session,
      agent: who.agent,
      server: held.server,
      tool: held.target,
      argsHash: binding.argsHash,
      policyVersion: version,
      rule: held.rule,
      approvers: requirement.approvers,
      count: requirement.count,
      expires,
      clientUser: requirement.clientUser,
    });
  };
  /** Records the client user's answer, then lets it count. */
  const answer = async (write: CallEntryWriter, given: ClientUserAnswer, via: ClientUserVia) => {
    if (approvals.state(request).state !== 'pending') return;
    const entry = await write({ kind: 'approval.decision', payload: clientUserDecisionPayload(request, given, via) });
    approvals.offer(request, { approver: CLIENT_USER, clientUser: true, decision: given.decision, ...(given.reason === undefined ? {} : { reason: given.reason }), entry: entry.index });
  };
  const entries = [
    { kind: 'policy.decision', payload: { ...held.decision, request } },
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
              ...(requirement.clientUser ? { clientUser: true } : {}),
            },
          },
        ]
      : []),
  ];
  const user = requirement.clientUser ? agent.user : undefined;
  const question = () => approvalQuestion({ agent: who.agent, server: held.server, tool: held.target, args: held.args, rule: held.rule, reason: held.decision.reason, expires });

  if (user?.via === 'input-required') {
    const answered = user.answered?.request === request ? user.answered : undefined;
    // First round: the call ends with the question; the agent's retry brings the answer.
    if (answered === undefined && approvals.state(request).state === 'pending') {
      return {
        entries,
        question: () => {
          announce();
          return user.ask(request, question());
        },
      };
    }
    return {
      entries,
      hold: async (write) => {
        announce();
        const given = answered === undefined ? undefined : clientUserAnswer(answered.response);
        if (given !== undefined) await answer(write, given, 'input-required');
        return release(await wait(agent.signal));
      },
    };
  }
  if (user?.via === 'elicitation/create') {
    const ask = user;
    return {
      entries,
      hold: async (write) => {
        announce();
        // The user's answer and the approvers' decisions race; whichever comes first decides, and the
        // question is withdrawn. An answer that cannot be recorded ends the wait (fail-closed).
        const withdrawn = new AbortController();
        const unrecorded = new AbortController();
        void ask
          .ask(question(), AbortSignal.any([agent.signal, withdrawn.signal]), Math.max(1, expiresAt - Date.now()))
          .then(clientUserAnswer, () => undefined)
          .then((given) => (given === undefined ? undefined : answer(write, given, 'elicitation/create')))
          .catch((error: unknown) => unrecorded.abort(error));
        try {
          return release(await wait(AbortSignal.any([agent.signal, unrecorded.signal])));
        } finally {
          withdrawn.abort(new Error('the call was decided'));
        }
      },
    };
  }
  return {
    entries,
    hold: async () => {
      announce();
      return release(await wait(agent.signal));
    },
  };
}
