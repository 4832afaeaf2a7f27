import type { AgentIdentity, Entry, EntryDraft } from '../ledger/entry.js';
import type { EntryQuery, StoredLeaf } from '../store/entry-queries.js';
import { readApprovalBook, requestStatus } from './approval-book.js';
import type { RecordedRequest } from './approval-book.js';
import { APPROVAL_STATEMENT_TYPE, approvalSignatureHolds } from './approval-statement.js';
import type { ApprovalStatement } from './approval-statement.js';
import type { Approver, ApproverRegistry } from './approver-registry.js';

/** What the queue reads of the log. */
export interface ApprovalLedger {
  entriesOfKind(log: string, kind: string): Promise<readonly StoredLeaf[]>;
  entries(log: string, query?: EntryQuery): Promise<Entry[]>;
}

/** An approval request that waits for a decision, with the arguments of its call (as recorded, secrets redacted). */
export interface WaitingRequest {
  readonly id: string;
  readonly index: number;
  readonly time: string;
  readonly expires: string;
  readonly agent: AgentIdentity;
  readonly server: string | undefined;
  readonly tool: string | undefined;
  readonly argsHash: string | undefined;
  readonly arguments: unknown;
  readonly rule: string;
  readonly approvers: readonly string[];
  readonly count: number;
  readonly approvedBy: readonly string[];
  /** The statement an approver signs to decide it, but for decision, reason, approver (key) and time. */
  readonly statement: StatementBase;
}

export type StatementBase = Pick<ApprovalStatement, 'type' | 'log' | 'request'>;

/** A decision as its approver signed it. */
export interface SignedDecision {
  readonly statement: ApprovalStatement;
  /** Base64 Ed25519 signature of the statement's canonical JSON, by the key it names. */
  readonly signature: string;
}

/** Why a decision may not be recorded: `kind` tells an HTTP route which status to answer. */
export class DecisionRefused extends Error {
  constructor(
    readonly kind: 'wrong-statement' | 'bad-signature' | 'not-an-approver' | 'not-allowed' | 'not-waiting' | 'decided-already',
    message: string,
  ) {
    super(message);
    this.name = 'DecisionRefused';
  }
}

/** A signed statement dated further than this from the gateway's clock is refused, so it cannot be kept and replayed later. */
const STATEMENT_CLOCK_SKEW_MS = 5 * 60_000;

/** Every approval request of the log, by id, with the decisions that count for it. */
export async function readRequestBook(ledger: ApprovalLedger, log: string, registry: ApproverRegistry): Promise<Map<string, RecordedRequest>> {
  const [requests, decisions, consumed] = await Promise.all(['approval.request', 'approval.decision', 'approval.consumed'].map((kind) => ledger.entriesOfKind(log, kind)));
  return readApprovalBook(log, { requests: requests!, decisions: decisions!, consumed: consumed! }, registry);
}

/** The requests still waiting at `now`, oldest first: what `agenttrail approvals list` and the web UI's queue show. */
export async function waitingRequests(ledger: ApprovalLedger, log: string, registry: ApproverRegistry, now: number): Promise<WaitingRequest[]> {
  const open = [...(await readRequestBook(ledger, log, registry)).values()].filter((request) => requestStatus(request, now) === 'pending');
  return Promise.all(
    open.map(async (request) => ({
      id: request.payload.id,
      index: request.entry.index,
      time: request.entry.time,
      expires: request.payload.expires,
      agent: request.entry.agent,
      server: request.entry.server,
      tool: request.entry.tool,
      argsHash: request.entry.argsHash,
      arguments: await argumentsOf(ledger, log, request),
      rule: request.payload.rule,
      approvers: request.payload.approvers,
      count: request.payload.count,
      approvedBy: request.decisions.filter((decision) => decision.decision === 'approve').map((decision) => decision.approver),
      statement: statementBase(log, request),
    })),
  );
}

/** The part of a decision's statement that names the request: what binds the signature to the stored request entry. */
export function statementBase(log: string, request: RecordedRequest): StatementBase {
  return { type: APPROVAL_STATEMENT_TYPE, log, request: { id: request.payload.id, index: request.entry.index, sha256: request.sha256 } };
}

/**
 * Checks a signed decision on `request`, whichever way it arrives (`agenttrail approvals`, the web
 * UI): the statement names this request entry by index and SHA-256, the key is a registered
 * approver's and the signature is its own, the statement is dated now, the request still waits,
 * the rule asks this approver's group, the call is not their own, and they have not decided it
 * yet. Returns the `approval.decision` entry to append, made by `by`; throws DecisionRefused.
 */
export function admitDecision(
  log: string,
  request: RecordedRequest,
  registry: ApproverRegistry,
  { statement, signature }: SignedDecision,
  by: AgentIdentity,
  now: number,
): { approver: Approver; draft: EntryDraft } {
  const expected = statementBase(log, request);
  const id = expected.request.id;
  if (statement.log !== expected.log || statement.request.id !== id || statement.request.index !== expected.request.index || statement.request.sha256 !== expected.request.sha256) {
    throw new DecisionRefused('wrong-statement', `the statement must name log "${expected.log}" and request ${id}, entry ${expected.request.index} with sha256 ${expected.request.sha256}`);
  }
  const approver = registry.byKey(statement.approver);
  if (approver === undefined) throw new DecisionRefused('not-an-approver', `key ${statement.approver} is no approver's; the config lists approvers' verifier keys under approvers`);
  if (!approvalSignatureHolds(statement, signature)) throw new DecisionRefused('bad-signature', `the signature is not key ${statement.approver}'s over the statement's canonical JSON (RFC 8785)`);
  if (Math.abs(Date.parse(statement.time) - now) > STATEMENT_CLOCK_SKEW_MS) {
    throw new DecisionRefused(
      'wrong-statement',
      `the statement is dated ${statement.time}, more than ${STATEMENT_CLOCK_SKEW_MS / 60_000} minutes from the gateway's clock (${new Date(now).toISOString()}); sign it again`,
    );
  }
  const status = requestStatus(request, now);
  if (status !== 'pending') throw new DecisionRefused('not-waiting', `approval request ${id} is ${status === 'used' ? 'used already' : status}; there is nothing to decide`);
  const refusal = registry.refusal(approver, { agent: request.entry.agent, approvers: request.payload.approvers });
  if (refusal !== undefined) throw new DecisionRefused('not-allowed', refusal);
  const earlier = request.decisions.find((made) => made.approver === approver.name);
  if (earlier !== undefined) {
    throw new DecisionRefused('decided-already', `approver "${approver.name}" already decided request ${id} (${earlier.decision}, entry ${earlier.index}); approvals need distinct approvers`);
  }
  const { entry: requested } = request;
  const draft: EntryDraft = {
    v: 1,
    time: new Date(now).toISOString(),
    kind: 'approval.decision',
    // In the session of the call it decides, so that its timeline shows who let it run.
    session: requested.session,
    agent: by,
    ...(requested.server === undefined ? {} : { server: requested.server }),
    ...(requested.tool === undefined ? {} : { tool: requested.tool }),
    ...(requested.call === undefined ? {} : { call: requested.call }),
    ...(requested.argsHash === undefined ? {} : { argsHash: requested.argsHash }),
    payload: {
      request: id,
      decision: statement.decision,
      approver: approver.name,
      ...(statement.reason === undefined ? {} : { reason: statement.reason }),
      statement,
      signature,
    },
  };
  return { approver, draft };
}

/** What an approver is told once their decision is recorded as entry `index`. */
export function describeRecordedDecision(log: string, request: RecordedRequest, approver: Approver, decision: ApprovalStatement['decision'], index: number): string {
  const approvals = request.decisions.filter((made) => made.decision === 'approve').length + (decision === 'approve' ? 1 : 0);
  const standing = decision === 'approve' ? ` (${approvals} of ${request.payload.count} approvals)` : '';
  return `${decision === 'approve' ? 'approved' : 'denied'} request ${request.payload.id}${standing} as ${approver.name}, recorded as entry ${index} of log "${log}"`;
}

/** The arguments of the call a request holds, as recorded (secrets redacted). */
async function argumentsOf(ledger: ApprovalLedger, log: string, request: RecordedRequest): Promise<unknown> {
  const entries = await ledger.entries(log, { session: request.entry.session });
  const call = entries.find((entry) => entry.call === request.entry.call && (entry.kind === 'tool.call' || entry.kind === 'mcp.request'));
  const params = (call?.payload as { params?: { arguments?: unknown } } | undefined)?.params;
  return request.entry.method === 'tools/call' ? (params?.arguments ?? {}) : (params ?? {});
}
