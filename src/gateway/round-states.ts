import { ProtocolError, ProtocolErrorCode, createRequestStateCodec, type RequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

/**
 * What the gateway puts in the `requestState` a 2026-07-28 agent echoes on its retry: which upstream
 * call the round belongs to, so that an agent cannot carry it to another upstream, tool, prompt or
 * resource than the one that asked.
 */
const RoundStateSchema = z.discriminatedUnion('via', [
  // The gateway holds a 2025-era upstream call open between the agent's rounds (input-rounds.ts).
  z.strictObject({ via: z.literal('bridge'), server: z.string(), target: z.string(), call: z.string(), question: z.string() }),
  // A 2026-07-28 upstream's own requestState, handed back to it verbatim on the retry.
  z.strictObject({ via: z.literal('upstream'), server: z.string(), target: z.string(), state: z.string() }),
  // The gateway asked the user at the agent's client to approve the call held by approval request `request`.
  z.strictObject({ via: z.literal('approval'), server: z.string(), target: z.string(), request: z.string() }),
]);
export type RoundState = z.infer<typeof RoundStateSchema>;

/** The upstream call a round belongs to: its server, and the tool, prompt or resource (its own name or uri). */
export type RoundTarget = Pick<RoundState, 'server' | 'target'>;

// A bridged round holds an upstream call open, so an agent that does not come back within this lets it go.
export const BRIDGED_ROUND_SECONDS = 600;
// An upstream's own state has its own expiry; the gateway's seal only has to outlive a person's answer.
const UPSTREAM_ROUND_SECONDS = 24 * 60 * 60;
// An approval request expires by itself; the seal must outlive the longest wait a rule allows (24 days).
const APPROVAL_ROUND_SECONDS = 25 * 24 * 60 * 60;

/**
 * Seals and opens round states with one HMAC key per gateway process (a restart ends open rounds: the
 * agent sends its request again without requestState). Signed, not encrypted: the agent can read what
 * it holds, which is only what the upstream already gave it.
 */
export class RoundStates {
  readonly #codecs: Record<RoundState['via'], RequestStateCodec<RoundState>>;

  constructor(key: Uint8Array = crypto.getRandomValues(new Uint8Array(32))) {
    // A state minted for tools/call cannot be replayed into prompts/get; both codecs share the key,
    // so either opens what the other sealed (the expiry travels inside the state).
    const bind = (ctx: ServerContext) => ctx.mcpReq.method;
    this.#codecs = {
      bridge: createRequestStateCodec<RoundState>({ key, bind, ttlSeconds: BRIDGED_ROUND_SECONDS }),
      upstream: createRequestStateCodec<RoundState>({ key, bind, ttlSeconds: UPSTREAM_ROUND_SECONDS }),
      approval: createRequestStateCodec<RoundState>({ key, bind, ttlSeconds: APPROVAL_ROUND_SECONDS }),
    };
  }

  seal(state: RoundState, ctx: ServerContext): Promise<string> {
    return this.#codecs[state.via].mint(state, ctx);
  }

  /** The gateway server's requestState hook: anything it did not seal for this method is answered -32602. */
  readonly verify = async (state: string, ctx: ServerContext): Promise<RoundState> =>
    RoundStateSchema.parse(await this.#codecs.bridge.verify(state, ctx));
}

/**
 * The round state a retry carries, if any, provided it was sealed for this very upstream call;
 * a state sealed for another one is refused before anything reaches an upstream. A state the
 * gateway sealed to ask for an approval is no round of the upstream's: for those it is none.
 */
export function roundStateOf<Via extends RoundState['via']>(
  ctx: ServerContext,
  via: Via,
  { server, target }: RoundTarget,
): Extract<RoundState, { via: Via }> | undefined {
  const state = ctx.mcpReq.requestState<RoundState>();
  if (state === undefined) return undefined;
  if (state.server !== server || state.target !== target) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `this requestState belongs to '${state.target}' of upstream '${state.server}', not to '${target}' of upstream '${server}': send the request again without requestState`,
    );
  }
  if (state.via === 'approval' && via !== 'approval') return undefined;
  if (state.via !== via) {
    // The upstream now speaks another revision than when it asked (it was restarted or reconfigured).
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `upstream '${server}' can no longer continue this round: send the request again without requestState`);
  }
  return state as Extract<RoundState, { via: Via }>;
}
