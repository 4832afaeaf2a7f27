import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { AgentIdentity, Entry, EntryDraft, EntryOutcome } from '../ledger/entry.js';
import { timeOrderedId } from '../ledger/time-ordered-id.js';
import { CredentialRefusal, NO_DELEGATION } from './call-credentials.js';
import type { CallCredentials, CallDelegation } from './call-credentials.js';
import { UpstreamError } from './upstream-error.js';

/** Where entries go: the log's single writer. `append` resolves once the entry is durable. */
export interface EntrySink {
  append(draft: EntryDraft): Promise<Entry>;
}

/** Who is on the other end of a session, as far as the transport tells. */
export interface SessionIdentity {
  session: string;
  agent: AgentIdentity;
  /** The OAuth access token the agent sent with this request: a token exchange's subject, never recorded. */
  accessToken?: string | undefined;
}

/** One exchange to record: a request and, later, its outcome. */
export interface RecordedCall {
  /** `tool` gives tool.call/tool.result entries, `mcp` gives mcp.request/mcp.result. */
  family: 'tool' | 'mcp';
  method: string;
  server?: string;
  tool?: string;
  name?: string;
  /** What `argsHash` covers: a tool's arguments, or the request's params. */
  args?: unknown;
  /** The request as recorded. */
  payload?: unknown;
  /** Who initiated it; `server` for server-to-client requests (elicitation, sampling, roots). */
  direction?: 'agent' | 'server';
  /** The agent's cancellation of this request: the SDK reports an abort as a timeout or a closed connection. */
  signal?: AbortSignal;
  /** The policy's say on this call, asked just before the request is recorded. */
  decide?: () => Promise<CallDecision>;
}

/** An entry a decision adds to the log, about the call: the recorder adds the call's fields. */
export interface DecisionEntry {
  readonly kind: string;
  readonly payload: unknown;
}

/** What the policy says about a call once it has waited (for approval): run it, or refuse it. */
export interface CallRelease {
  /** Written before the call runs (or is refused), e.g. the approval it uses up. */
  readonly entries: readonly DecisionEntry[];
  /** Present when the call must not go upstream after all. */
  readonly refusal?: () => Promise<unknown>;
}

/** Writes an entry about the call now (with the call's own fields) and resolves with it once it is durable. */
export type CallEntryWriter = (entry: DecisionEntry) => Promise<Entry>;

/** What a policy decided about a call, for the recorder to log and enforce. */
export interface CallDecision {
  /** Written in the same group commit as the request (`policy.decision`, `approval.request`). */
  readonly entries: readonly DecisionEntry[];
  /** Present when the call must not go upstream: what the agent gets instead (a result, or a throw). */
  readonly refusal?: () => Promise<unknown>;
  /**
   * Present when the call does not go upstream in this round because the agent is asked something
   * first (a 2026-07-28 input-required result): what it gets; its retry carries the answer.
   */
  readonly question?: () => Promise<unknown>;
  /**
   * Present when the call waits before it may go upstream; rejects when the agent gives up.
   * What happens while it waits (an answer to a question) is written with `write`.
   */
  readonly hold?: (write: CallEntryWriter) => Promise<CallRelease>;
}

/**
 * Write-ahead recording of one exchange: the request entry is durable before `run` starts, so a
 * crash can lose a reply but never the fact that a call was made. If the request entry cannot be
 * written the call is refused (fail-closed) and `run` never starts. A call that the policy refuses,
 * or that lacks a credential it needs, is recorded with its reason and never runs: its outcome is
 * `refused`. A call the policy holds waits after its request is recorded, then runs or is refused.
 */
export class CallRecorder {
  constructor(
    private readonly sink: EntrySink,
    /** Which credentials each call carries upstream: each use is recorded. */
    private readonly credentials: Pick<CallCredentials, 'forCall'> = { forCall: () => Promise.resolve(NO_DELEGATION) },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `run` sends the call upstream with the headers of the credentials that go with it alone. */
  async record<T>(who: SessionIdentity, call: RecordedCall, run: (headers: Readonly<Record<string, string>>) => Promise<T>): Promise<T> {
    const callId = timeOrderedId();
    const common = {
      session: who.session,
      agent: who.agent,
      method: call.method,
      call: callId,
      ...(call.server === undefined ? {} : { server: call.server }),
      ...(call.tool === undefined ? {} : { tool: call.tool }),
      ...(call.name === undefined ? {} : { name: call.name }),
    };
    const decision = await call.decide?.();
    const argsHash = canonicalHash(call.args ?? {});
    const time = this.now().toISOString();
    const decided = (entry: DecisionEntry, at: string) => this.appendOr('call refused:', { v: 1, time: at, kind: entry.kind, ...common, argsHash, payload: entry.payload });
    const write: CallEntryWriter = (entry) => decided(entry, this.now().toISOString());
    const goesUpstream = decision?.refusal === undefined && decision?.question === undefined && decision?.hold === undefined;
    // Credentials are obtained only for a call that goes upstream now; a held one gets them once released.
    const upstream = goesUpstream ? await this.credentialsFor(who, call) : undefined;
    // One group commit holds the request, the policy's decision and the credentials it will carry upstream (or why one could not go).
    await Promise.all([
      this.appendOr('call refused:', {
        v: 1,
        time,
        kind: call.family === 'tool' ? 'tool.call' : 'mcp.request',
        ...common,
        argsHash,
        payload: { ...(call.direction === 'server' ? { direction: 'server' } : {}), params: call.payload ?? {} },
      }),
      ...(decision?.entries ?? []).map((entry) => decided(entry, time)),
      ...(upstream ? this.credentialEntries(upstream, common, time) : []),
    ]);
    const started = performance.now();
    let outcome: EntryOutcome = 'ok';
    let payload: unknown;
    let refusal = decision?.refusal ?? refusalOf(call, upstream?.refusal);
    let headers = upstream?.delegation.headers ?? {};
    try {
      if (decision?.hold !== undefined) {
        const release = await decision.hold(write);
        const released = release.refusal === undefined ? await this.credentialsFor(who, call) : undefined;
        const at = this.now().toISOString();
        await Promise.all([...release.entries.map((entry) => decided(entry, at)), ...(released ? this.credentialEntries(released, common, at) : [])]);
        refusal = release.refusal ?? refusalOf(call, released?.refusal);
        headers = released?.delegation.headers ?? {};
      }
      const result = (await (refusal ?? decision?.question ?? (() => run(headers)))()) as T;
      if (refusal !== undefined) outcome = 'refused';
      else if (isToolErrorResult(result)) outcome = 'error';
      payload = { result };
      return result;
    } catch (error) {
      const cancelled = call.signal?.aborted === true;
      outcome = refusal !== undefined ? 'refused' : cancelled ? 'cancelled' : outcomeOf(error);
      // The SDK's error for an aborted call speaks of a timeout or a closed connection; the reviewer reads why it ended.
      payload = { error: cancelled ? { message: `cancelled by the agent (${String(call.signal?.reason)})` } : describeError(error) };
      throw error;
    } finally {
      await this.appendOr('the call ran, but its outcome was withheld because', {
        v: 1,
        time: this.now().toISOString(),
        kind: call.family === 'tool' ? 'tool.result' : 'mcp.result',
        ...common,
        outcome,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        payload,
      });
    }
  }

  /** The credentials the call carries, or why one it needs cannot go (the call is then refused). */
  private credentialsFor(who: SessionIdentity, call: RecordedCall): Promise<{ delegation: CallDelegation; refusal?: Error }> {
    return this.credentials.forCall(who, call).then(
      (delegation) => ({ delegation }),
      (error: unknown) => ({ delegation: NO_DELEGATION, refusal: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  /** A credential.delegated entry per credential the call carries, and a credential.failed one for a credential it could not. */
  private credentialEntries(upstream: { delegation: CallDelegation; refusal?: Error }, common: Omit<EntryDraft, 'v' | 'time' | 'kind'>, time: string): Promise<Entry>[] {
    const { delegation, refusal } = upstream;
    return [
      ...delegation.credentials.map((credential) => this.appendOr('call refused:', { v: 1, time, kind: 'credential.delegated', ...common, payload: { credential } })),
      ...(refusal instanceof CredentialRefusal
        ? [this.appendOr('call refused:', { v: 1, time, kind: 'credential.failed', ...common, payload: { credential: { name: refusal.credential, carrier: refusal.carrier }, reason: refusal.reason } })]
        : []),
    ];
  }

  /** Records a single event that has no outcome of its own (session start and end). */
  async event(who: SessionIdentity, kind: string, payload: unknown): Promise<void> {
    await this.appendOr('refused:', { v: 1, time: this.now().toISOString(), kind, session: who.session, agent: who.agent, payload });
  }

  /** Fail-closed: what the log cannot hold, the agent does not get. */
  private async appendOr(consequence: string, draft: EntryDraft): Promise<Entry> {
    try {
      return await this.sink.append(draft);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ProtocolError(ProtocolErrorCode.InternalError, `${consequence} the audit log cannot be written (${reason})`);
    }
  }
}

function isToolErrorResult(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
}

function outcomeOf(error: unknown): EntryOutcome {
  // An upstream failure's message quotes what the server wrote, which may well say "cancel".
  if (error instanceof UpstreamError) return error.failure === 'timeout' ? 'timeout' : 'error';
  if (error instanceof Error && (error.name === 'AbortError' || /cancel|abort/i.test(error.message))) return 'cancelled';
  return 'error';
}

function describeError(error: unknown): { message: string; code?: number } {
  if (error instanceof ProtocolError) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** What the agent gets for a call a credential kept from going: a tool error the model reads, or a failed request. */
function refusalOf(call: RecordedCall, refusal: Error | undefined): (() => Promise<unknown>) | undefined {
  if (refusal === undefined) return undefined;
  return async () => {
    if (call.family === 'tool') return { content: [{ type: 'text', text: refusal.message }], isError: true };
    throw new ProtocolError(ProtocolErrorCode.InvalidRequest, refusal.message);
  };
}
