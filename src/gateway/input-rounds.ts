import { ProtocolError, ProtocolErrorCode, inputRequired, type Result, type ServerContext } from '@modelcontextprotocol/server';
import { BRIDGED_ROUND_SECONDS, roundStateOf, type RoundStates, type RoundTarget } from './round-states.js';

/** A request an upstream sent while serving a call: elicitation/create, sampling/createMessage, roots/list. */
export interface UpstreamQuestion {
  method: string;
  params?: Record<string, unknown>;
}

/** What the upstream call sees of the agent across rounds. */
export interface RoundContext {
  /** Asks the agent, and resolves with the agent's answer from its next round. */
  ask(question: UpstreamQuestion): Promise<Result>;
  /** The agent request now open: progress goes to it. */
  readonly round: ServerContext;
  /** Aborted when the agent abandons the call. */
  readonly signal: AbortSignal;
}

type CallEvent = { kind: 'question'; key: string; question: UpstreamQuestion } | { kind: 'done'; result: Result } | { kind: 'failed'; error: unknown };

/**
 * A 2026-07-28 agent cannot be sent requests; it is answered `input_required` and retries with the
 * answers. An upstream, though, asks in the middle of a call (2025 push requests). This keeps the
 * upstream call running between the agent's rounds: each upstream question becomes one round, and
 * the agent's retry, identified by an HMAC-sealed requestState, answers it.
 */
export class InputRounds {
  readonly #calls = new Map<string, PendingCall>();

  constructor(private readonly states: RoundStates) {}

  /** Serves one round: starts the call (first round) or answers its open question (a retry). */
  async serve(ctx: ServerContext, target: RoundTarget, start: (call: RoundContext) => Promise<Result>): Promise<Result> {
    const state = roundStateOf(ctx, 'bridge', target);
    let call: PendingCall;
    if (state === undefined) {
      call = new PendingCall(ctx, start, () => this.#calls.delete(call.id));
      this.#calls.set(call.id, call);
    } else {
      const pending = this.#calls.get(state.call);
      if (!pending) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'this input round was already answered or has expired: send the request again without requestState');
      }
      call = pending;
      call.round = ctx;
      const answer = ctx.mcpReq.inputResponses?.[state.question];
      if (answer === undefined) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `the retry carries no inputResponses.${state.question}: answer the input request and retry`);
      }
      call.answer(state.question, answer as Result);
    }
    // While this round's request is open, the agent cancelling it cancels the upstream call.
    const cancel = () => call.cancel(ctx.mcpReq.signal.reason);
    ctx.mcpReq.signal.addEventListener('abort', cancel, { once: true });
    const event = await call.next().finally(() => ctx.mcpReq.signal.removeEventListener('abort', cancel));
    if (event.kind !== 'question') this.#calls.delete(call.id);
    if (event.kind === 'failed') throw event.error;
    if (event.kind === 'done') return event.result;
    return inputRequired({
      inputRequests: { [event.key]: { method: event.question.method, params: event.question.params ?? {} } as never },
      requestState: await this.states.seal({ via: 'bridge', ...target, call: call.id, question: event.key }, ctx),
    });
  }
}

/** One upstream call in flight across the agent's rounds. */
class PendingCall implements RoundContext {
  readonly id = crypto.randomUUID();
  round: ServerContext;
  readonly #events: CallEvent[] = [];
  #wake: (() => void) | undefined;
  readonly #answers = new Map<string, (answer: Result) => void>();
  readonly #abort = new AbortController();
  readonly #expiry: ReturnType<typeof setTimeout>;
  #questions = 0;

  constructor(round: ServerContext, start: (call: RoundContext) => Promise<Result>, onAbandoned: () => void) {
    this.round = round;
    // An agent that never comes back must not hold the upstream call open forever.
    this.#expiry = setTimeout(() => {
      onAbandoned();
      this.#abort.abort(new Error('the agent did not answer the input request in time'));
    }, BRIDGED_ROUND_SECONDS * 1000);
    // Node's timers are objects that can stop holding the process open; a Worker's are numbers.
    (this.#expiry as { unref?(): void }).unref?.();
    start(this).then(
      (result) => this.settle({ kind: 'done', result }),
      (error: unknown) => this.settle({ kind: 'failed', error }),
    );
  }

  async next(): Promise<CallEvent> {
    while (this.#events.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    return this.#events.shift()!;
  }

  answer(key: string, answer: Result): void {
    const resolve = this.#answers.get(key);
    if (!resolve) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `input request '${key}' was already answered`);
    this.#answers.delete(key);
    resolve(answer);
  }

  cancel(reason: unknown): void {
    this.#abort.abort(reason);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  ask(question: UpstreamQuestion): Promise<Result> {
    const key = `q${++this.#questions}`;
    const answered = new Promise<Result>((resolve) => this.#answers.set(key, resolve));
    this.push({ kind: 'question', key, question });
    return answered;
  }

  private settle(event: CallEvent): void {
    clearTimeout(this.#expiry);
    this.push(event);
  }

  private push(event: CallEvent): void {
    this.#events.push(event);
    this.#wake?.();
    this.#wake = undefined;
  }
}
