import { ApprovalRequestPayloadSchema, checkApprovalDecision, decidedRequestIndex, isClientUserDecision } from '../approvals/approval-entries.js';
import type { ApproverRegistry } from '../approvals/approver-registry.js';
import type { PendingApprovals } from '../approvals/pending-approvals.js';
import type { Entry } from '../ledger/entry.js';
import { parseEntryBody } from '../store/entry-queries.js';
import type { Store } from '../store/open-store.js';

/** Approvers decide in another process (agenttrail approvals); how soon a waiting call hears of it. */
const POLL_MS = 500;

/**
 * Brings the decisions approvers write into the log to the calls waiting for them. It reads only
 * the `approval.decision` entries committed since its last look, and counts one only when the
 * approver's signature holds over the stored request it names, the key is a registered approver's,
 * and that approver may decide this call (their group, not their own call). What it ignores, it
 * says why on the operator's terminal.
 */
export class ApprovalInbox {
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: string,
    private readonly registry: ApproverRegistry,
    private readonly pending: PendingApprovals,
    private readonly report: (line: string) => void,
  ) {}

  /** Starts reading at the end of the log as it is now: earlier decisions are for earlier requests. */
  async start(): Promise<void> {
    this.#next = (await this.store.checkpoint(this.log))?.size ?? 0;
    this.#schedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#reading;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#reading = this.#readNew()
        .catch((error: unknown) => this.report(`agenttrail: cannot read approval decisions: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.#schedule());
    }, POLL_MS);
    this.#timer.unref();
  }

  async #readNew(): Promise<void> {
    // Entries become visible with the checkpoint that covers them, so its size bounds what to read.
    const size = (await this.store.checkpoint(this.log))?.size ?? 0;
    if (size <= this.#next) return;
    const decisions = await this.store.entriesOfKind(this.log, 'approval.decision', { from: this.#next, to: size });
    this.#next = size;
    for (const leaf of decisions) await this.#accept(parseEntryBody(this.log, leaf.index, leaf.body));
  }

  async #accept(decision: Entry): Promise<void> {
    // The answers of users at agents' clients are recorded by the gateway that asked, which counted them then.
    if (isClientUserDecision(decision)) return;
    const requestIndex = decidedRequestIndex(decision);
    const requests = requestIndex === undefined ? [] : await this.store.entriesOfKind(this.log, 'approval.request', { from: requestIndex, to: requestIndex + 1 });
    const checked = checkApprovalDecision(decision, requests[0]);
    const ignored = (why: string) => this.report(`agenttrail: approval decision (entry ${decision.index}) ignored: ${why}`);
    if ('problem' in checked) return ignored(checked.problem);
    const { payload } = checked;
    if (this.pending.bindingOf(payload.request) === undefined) return;
    const approver = this.registry.byKey(checked.statement.approver);
    if (approver === undefined) return ignored(`key ${checked.statement.approver} is not a registered approver's`);
    const request = parseEntryBody(this.log, requests[0]!.index, requests[0]!.body);
    const asked = ApprovalRequestPayloadSchema.parse(request.payload);
    const refusal = this.registry.refusal(approver, { agent: request.agent, approvers: asked.approvers });
    if (refusal !== undefined) return ignored(refusal);
    this.pending.offer(payload.request, {
      approver: approver.name,
      decision: payload.decision,
      ...(payload.reason === undefined ? {} : { reason: payload.reason }),
      entry: decision.index,
    });
  }
}
