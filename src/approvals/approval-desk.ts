import type { AgentIdentity, Entry, EntryDraft } from '../ledger/entry.js';
import type { EntryQuery, StoredLeaf } from '../store/entry-queries.js';
import { readApprovalBook, requestStatus } from './approval-book.js';
import type { CountedDecision, RecordedRequest, RequestStatus } from './approval-book.js';
import { APPROVAL_STATEMENT_TYPE, approvalSignatureHolds } from './approval-statement.js';
import type { ApprovalStatement } from './approval-statement.js';
import type { ApproverRegistry } from './approver-registry.js';
import type { PendingApprovals } from './pending-approvals.js';

/** What the desk reads of the log. */
export interface ApprovalLedger {
  entriesOfKind(log: string, kind: string): Promise<readonly StoredLeaf[]>;
  entries(log: string, query?: EntryQuery): Promise<Entry[]>;
}

/** Where the desk writes decisions: the log's writer, as is (a redacted statement would no longer verify). */
export interface DecisionWriter {
  append(draft: EntryDraft): Promise<Entry>;
}

/** A decision as its approver signed it. */
export interface SignedDecision {
  readonly statement: ApprovalStatement;
  /** Base64 Ed25519 signature of the statement's canonical JSON, by the key it names. */
  readonly signature: string;
}

/** Why a decision was not recorded: `kind` tells an HTTP API which status to answer. */
export class DecisionRefused extends Error {
  constructor(
    readonly kind: 'unknown-request' | 'wrong-statement' | 'bad-signature' | 'not-an-approver' | 'not-allowed' | 'not-waiting' | 'decided-already',
    message: string,
  ) {
    super(message);
    this.name = 'DecisionRefused';
  }
}

/** An approval request as approvers see it, with the arguments of its call (as recorded, secrets redacted). */
export interface RequestView {
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
  /** Whether the person at the agent's client may approve it themselves (weaker, see client-user-approval.ts). */
  readonly clientUser: boolean;
  readonly approvedBy: readonly string[];
  /** The statement an approver signs to decide it, but for decision, reason, approver (key) and time. */
  readonly statement: StatementBase;
}

/** The part of a decision's statement that names the request: what binds the signature to the stored request entry. */
export type StatementBase = Pick<ApprovalStatement, 'type' | 'log' | 'request'>;

/** A decided-or-not request in full: where it stands and who decided. */
export interface RequestDetail extends RequestView {
  readonly status: RequestStatus;
  readonly decisions: readonly CountedDecision[];
}

/** A decision the desk recorded, and where its request stands now. */
export interface RecordedDecision {
  readonly entry: Entry;
  readonly approver: string;
  readonly request: RecordedRequest;
  readonly status: RequestStatus;
  readonly approvals: number;
}

/** A signed statement older or newer than this (by the gateway's clock) is refused: it cannot be replayed later. */
const STATEMENT_CLOCK_SKEW_MS = 5 * 60_000;

/** The approval requests of a log as approvers read them: waiting ones, one in full, the statement to sign. */
export class ApprovalRequests {
  constructor(
    protected readonly ledger: ApprovalLedger,
    readonly log: string,
    protected readonly registry: ApproverRegistry,
    protected readonly now: () => number = Date.now,
  ) {}

  /** Every approval request of the log, by id, with the decisions that count. */
  async book(): Promise<Map<string, RecordedRequest>> {
    const [requests, decisions, consumed] = await Promise.all(['approval.request', 'approval.decision', 'approval.consumed'].map((kind) => this.ledger.entriesOfKind(this.log, kind)));
    return readApprovalBook(this.log, { requests: requests!, decisions: decisions!, consumed: consumed! }, this.registry);
  }

  /** The requests still waiting for a decision, oldest first. */
  async waiting(): Promise<RequestView[]> {
    const now = this.now();
    const open = [...(await this.book()).values()].filter((request) => requestStatus(request, now) === 'pending');
    return Promise.all(open.map((request) => this.view(request)));
  }

  /** One request, whatever its state; undefined when the log has none with this id. */
  async detail(id: string): Promise<RequestDetail | undefined> {
    const request = (await this.book()).get(id);
    if (request === undefined) return undefined;
    return {
      ...(await this.view(request)),
      status: requestStatus(request, this.now()),
      decisions: request.decisions,
    };
  }

  /** The statement an approver signs to decide `request`. */
  statementFor(request: RecordedRequest, decision: ApprovalStatement['decision'], reason: string | undefined, approverKey: string): ApprovalStatement {
    return {
      ...statementBase(this.log, request),
      decision,
      ...(reason === undefined ? {} : { reason }),
      approver: approverKey,
      time: new Date(this.now()).toISOString(),
    };
  }

  private async view(request: RecordedRequest): Promise<RequestView> {
    const { entry, payload } = request;
    return {
      id: payload.id,
      index: entry.index,
      time: entry.time,
      expires: payload.expires,
      agent: entry.agent,
      server: entry.server,
      tool: entry.tool,
      argsHash: entry.argsHash,
      arguments: await this.argumentsOf(request),
      rule: payload.rule,
      approvers: payload.approvers,
      count: payload.count,
      clientUser: payload.clientUser === true,
      approvedBy: request.decisions.filter((decision) => decision.decision === 'approve').map((decision) => decision.approver),
      statement: statementBase(this.log, request),
    };
  }

  /** The arguments of the call a request holds, as recorded (secrets redacted). */
  private async argumentsOf(request: RecordedRequest): Promise<unknown> {
    const entries = await this.ledger.entries(this.log, { session: request.entry.session });
    const call = entries.find((entry) => entry.call === request.entry.call && (entry.kind === 'tool.call' || entry.kind === 'mcp.request'));
    const params = (call?.payload as { params?: { arguments?: unknown } } | undefined)?.params;
    return request.entry.method === 'tools/call' ? (params?.arguments ?? {}) : (params ?? {});
  }
}

/**
 * Where approvers' decisions are checked and recorded, whichever way they arrive (`agenttrail
 * approvals`, the HTTP API): the statement names this request entry by index and SHA-256, its
 * signature is the named key's, the key is a registered approver's, the request still waits, the
 * rule asks this approver's group, the call is not their own, and they have not decided it yet.
 * Decisions are recorded one at a time, so that two at once cannot both pass the last check.
 */
export class ApprovalDesk extends ApprovalRequests {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    ledger: ApprovalLedger,
    log: string,
    registry: ApproverRegistry,
    private readonly writer: DecisionWriter,
    /** The gateway's waiting calls, told at once; without it they learn from the log. */
    private readonly pending?: PendingApprovals,
    now?: () => number,
  ) {
    super(ledger, log, registry, now);
  }

  /** Checks and records one signed decision by `by` (who sent it); throws DecisionRefused. */
  decide(signed: SignedDecision, by: AgentIdentity): Promise<RecordedDecision> {
    const turn = this.#queue.then(() => this.#decide(signed, by));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #decide({ statement, signature }: SignedDecision, by: AgentIdentity): Promise<RecordedDecision> {
    const id = statement.request.id;
    const request = (await this.book()).get(id);
    if (request === undefined) throw new DecisionRefused('unknown-request', `no approval request '${id}' in the log (see agenttrail approvals list)`);
    const expected = statementBase(this.log, request);
    if (statement.log !== expected.log || statement.request.index !== expected.request.index || statement.request.sha256 !== expected.request.sha256) {
      throw new DecisionRefused('wrong-statement', `the statement must name log "${expected.log}" and request entry ${expected.request.index} with sha256 ${expected.request.sha256}, as GET /v1/approvals/${id} gives them`);
    }
    const approver = this.registry.byKey(statement.approver);
    if (approver === undefined) throw new DecisionRefused('not-an-approver', `key ${statement.approver} is no approver's; the config lists approvers' verifier keys under approvers`);
    if (!approvalSignatureHolds(statement, signature)) throw new DecisionRefused('bad-signature', `the signature is not key ${statement.approver}'s over the statement's canonical JSON (RFC 8785)`);
    const skew = Math.abs(Date.parse(statement.time) - this.now());
    if (skew > STATEMENT_CLOCK_SKEW_MS) {
      throw new DecisionRefused('wrong-statement', `the statement is dated ${statement.time}, more than ${STATEMENT_CLOCK_SKEW_MS / 60_000} minutes from the gateway's clock (${new Date(this.now()).toISOString()}); sign it again with the current time`);
    }
    const status = requestStatus(request, this.now());
    if (status !== 'pending') throw new DecisionRefused('not-waiting', `approval request ${id} is ${status === 'used' ? 'used already' : status}; there is nothing to decide`);
    const refusal = this.registry.refusal(approver, { agent: request.entry.agent, approvers: request.payload.approvers });
    if (refusal !== undefined) throw new DecisionRefused('not-allowed', refusal);
    const earlier = request.decisions.find((made) => made.approver === approver.name);
    if (earlier !== undefined) {
      throw new DecisionRefused('decided-already', `approver "${approver.name}" already decided request ${id} (${earlier.decision}, entry ${earlier.index}); approvals need distinct approvers`);
    }
    const { entry: requested } = request;
    const entry = await this.writer.append({
      v: 1,
      time: new Date(this.now()).toISOString(),
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
    });
    const counted: CountedDecision = {
      approver: approver.name,
      decision: statement.decision,
      ...(statement.reason === undefined ? {} : { reason: statement.reason }),
      index: entry.index,
      time: entry.time,
    };
    this.pending?.offer(id, { ...counted, entry: entry.index });
    const decided = { ...request, decisions: [...request.decisions, counted] };
    return {
      entry,
      approver: approver.name,
      request: decided,
      status: requestStatus(decided, this.now()),
      approvals: decided.decisions.filter((made) => made.decision === 'approve').length,
    };
  }
}

function statementBase(log: string, request: RecordedRequest): StatementBase {
  return { type: APPROVAL_STATEMENT_TYPE, log, request: { id: request.payload.id, index: request.entry.index, sha256: request.sha256 } };
}
