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
}

/**
 * Write-ahead recording of one exchange: the request entry is durable before `run` starts, so a
 * crash can lose a reply but never the fact that a call was made. If the request entry cannot be
 * written the call is refused (fail-closed) and `run` never starts.
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
    const time = this.now().toISOString();
    const { delegation, refusal } = await this.credentials.forCall(who, call).then(
      (delegation): { delegation: CallDelegation; refusal?: Error } => ({ delegation }),
      (error: unknown) => ({ delegation: NO_DELEGATION, refusal: error instanceof Error ? error : new Error(String(error)) }),
    );
    // One group commit holds the request and the credentials it will carry upstream (or why one could not go).
    await Promise.all([
      this.appendOr('call refused:', {
        v: 1,
        time,
        kind: call.family === 'tool' ? 'tool.call' : 'mcp.request',
        ...common,
        argsHash: canonicalHash(call.args ?? {}),
        payload: { ...(call.direction === 'server' ? { direction: 'server' } : {}), params: call.payload ?? {} },
      }),
      ...delegation.credentials.map((credential) =>
        this.appendOr('call refused:', { v: 1, time, kind: 'credential.delegated', ...common, payload: { credential } }),
      ),
      ...(refusal instanceof CredentialRefusal
        ? [this.appendOr('call refused:', { v: 1, time, kind: 'credential.failed', ...common, payload: { credential: { name: refusal.credential, carrier: refusal.carrier }, reason: refusal.reason } })]
        : []),
    ]);
    const started = performance.now();
    let outcome: EntryOutcome = 'ok';
    let payload: unknown;
    try {
      const result = refusal === undefined ? await run(delegation.headers) : refusedCall<T>(call, refusal);
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

  /** Records a single event that has no outcome of its own (session start and end). */
  async event(who: SessionIdentity, kind: string, payload: unknown): Promise<void> {
    await this.appendOr('refused:', { v: 1, time: this.now().toISOString(), kind, session: who.session, agent: who.agent, payload });
  }

  /** Fail-closed: what the log cannot hold, the agent does not get. */
  private async appendOr(consequence: string, draft: EntryDraft): Promise<void> {
    try {
      await this.sink.append(draft);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ProtocolError(ProtocolErrorCode.InternalError, `${consequence} the audit log cannot be written (${reason})`);
    }
  }
}

/** A tool call the gateway did not send is a tool error the model reads; any other request fails. */
function refusedCall<T>(call: RecordedCall, refusal: Error): T {
  if (call.family === 'tool') return { content: [{ type: 'text', text: refusal.message }], isError: true } as T;
  throw new ProtocolError(ProtocolErrorCode.InvalidRequest, refusal.message);
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
