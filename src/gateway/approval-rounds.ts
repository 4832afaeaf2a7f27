import { inputRequired, type ServerContext } from '@modelcontextprotocol/server';
import type { ClientUserPrompt } from './held-for-approval.js';
import { roundStateOf, type RoundStates, type RoundTarget } from './round-states.js';

/** The key of the gateway's own question among a round's inputRequests (and of its answer in the retry). */
const APPROVAL_INPUT_KEY = 'agenttrail_approval';

/**
 * Asks the user at a 2026-07-28 agent's client to approve a held call: the call's result is
 * input_required with the question, and a requestState sealed (HMAC) for this approval request,
 * this upstream call and this method, so that neither the answer nor the state can be carried to
 * another call; the agent's retry brings the answer.
 */
export function approvalRoundPrompt(states: RoundStates, ctx: ServerContext, where: RoundTarget): ClientUserPrompt {
  const state = roundStateOf(ctx, 'approval', where);
  return {
    via: 'input-required',
    answered: state === undefined ? undefined : { request: state.request, response: ctx.mcpReq.inputResponses?.[APPROVAL_INPUT_KEY] },
    ask: async (request, question) =>
      inputRequired({
        inputRequests: { [APPROVAL_INPUT_KEY]: inputRequired.elicit(question) },
        requestState: await states.seal({ via: 'approval', ...where, request }, ctx),
      }),
  };
}
