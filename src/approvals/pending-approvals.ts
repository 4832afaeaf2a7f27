import { CLIENT_USER } from './client-user-approval.js';

/** What an approval is bound to: this agent calling this tool with these arguments under this policy. */
export interface ApprovalBinding {
  /** The authenticated agent and the subject it acts for (empty when anonymous). */
  readonly agent: string;
  readonly subject: string;
  readonly server: string;
  readonly tool: string;
  readonly argsHash: string;
  readonly policyVersion: string;
}

export type ApprovalState =
  | { readonly state: 'pending'; readonly approvals: number; readonly count: number; readonly expiresAt: number }
  | { readonly state: 'approved'; readonly approvals: readonly { readonly approver: string; readonly entry: number }[] }
  /** `by`: "approver NAME", or CLIENT_USER. */
  | { readonly state: 'denied'; readonly by: string; readonly reason?: string }
  | { readonly state: 'expired'; readonly approvals: number; readonly count: number }
  | { readonly state: 'used' };

/** A checked decision: an approver's (by config name) or the client user's. */
export interface OfferedDecision {
  readonly approver: string;
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
  /** Its approval.decision entry. */
  readonly entry: number;
  readonly clientUser?: true;
}

interface OpenRequest {
  readonly binding: ApprovalBinding;
  readonly count: number;
  readonly expiresAt: number;
  /** Whether the rule accepts the approval of the user at the agent's client in place of its approvers'. */
  readonly clientUser: boolean;
  /** Approver name (or CLIENT_USER) → index of their approval.decision entry. */
  readonly approvals: Map<string, number>;
  denial?: { by: string; reason?: string };
  used: boolean;
  readonly waiters: Set<() => void>;
}

/** How often a waiting call hears how its request stands (and so its agent, as progress). */
const TICK_MS = 5000;

/**
 * The approval requests this gateway made and the decisions it has accepted for them, in memory.
 * A request is single-use, bound to one call's agent, tool, arguments hash and policy version, and
 * expires; it is approved by `count` distinct approvers (or, where its rule accepts that, by the
 * user at the agent's client) and denied by any one. Decisions arrive checked: signature, group,
 * not self.
 */
export class PendingApprovals {
  readonly #requests = new Map<string, OpenRequest>();

  constructor(private readonly now: () => number = Date.now) {}

  open(id: string, binding: ApprovalBinding, count: number, expiresAt: number, clientUser = false): void {
    this.#forgetExpired();
    this.#requests.set(id, { binding, count, expiresAt, clientUser, approvals: new Map(), used: false, waiters: new Set() });
  }

  /** A request for exactly this call that can still let it run: approved and unused, or pending. */
  find(binding: ApprovalBinding): string | undefined {
    for (const [id, request] of this.#requests) {
      const state = this.state(id).state;
      if ((state === 'pending' || state === 'approved') && sameBinding(request.binding, binding)) return id;
    }
    return undefined;
  }

  /** When a request this gateway holds expires (ms since the epoch). */
  expiresAt(id: string): number | undefined {
    return this.#requests.get(id)?.expiresAt;
  }

  /** The binding of a request this gateway made and still holds. */
  bindingOf(id: string): ApprovalBinding | undefined {
    return this.#requests.get(id)?.binding;
  }

  /** Counts a checked decision; one approver's second decision on a request is ignored, and so is a client user's the rule does not accept. */
  offer(id: string, decision: OfferedDecision): void {
    const request = this.#requests.get(id);
    if (request === undefined || this.state(id).state !== 'pending' || request.approvals.has(decision.approver)) return;
    if (decision.clientUser && !request.clientUser) return;
    if (decision.decision === 'deny') {
      const by = decision.clientUser ? decision.approver : `approver ${decision.approver}`;
      request.denial = { by, ...(decision.reason === undefined ? {} : { reason: decision.reason }) };
    } else request.approvals.set(decision.approver, decision.entry);
    for (const wake of request.waiters) wake();
  }

  state(id: string): ApprovalState {
    const request = this.#requests.get(id);
    if (request === undefined || request.used) return { state: 'used' };
    if (request.denial !== undefined) return { state: 'denied', ...request.denial };
    // An approval is valid until the request expires, then it is used or gone.
    if (this.now() >= request.expiresAt) return { state: 'expired', approvals: request.approvals.size, count: request.count };
    if (request.approvals.size >= request.count || request.approvals.has(CLIENT_USER)) {
      return { state: 'approved', approvals: [...request.approvals].map(([approver, entry]) => ({ approver, entry })) };
    }
    return { state: 'pending', approvals: request.approvals.size, count: request.count, expiresAt: request.expiresAt };
  }

  /**
   * Resolves once the request is decided or expired (or the signal aborts: it rejects then), telling
   * `onTick` how it stands every few seconds meanwhile.
   */
  async wait(id: string, signal: AbortSignal, onTick: (state: ApprovalState) => void): Promise<ApprovalState> {
    const request = this.#requests.get(id);
    if (request === undefined) return { state: 'used' };
    for (;;) {
      signal.throwIfAborted();
      const state = this.state(id);
      if (state.state !== 'pending') return state;
      onTick(state);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          request.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, Math.min(TICK_MS, state.expiresAt - this.now())));
        request.waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Uses the approval up: true for the one call that may run under it. */
  consume(id: string): boolean {
    const request = this.#requests.get(id);
    if (request === undefined || this.state(id).state !== 'approved') return false;
    request.used = true;
    return true;
  }

  #forgetExpired(): void {
    const now = this.now();
    for (const [id, request] of this.#requests) if (request.used || now >= request.expiresAt) this.#requests.delete(id);
  }
}

function sameBinding(a: ApprovalBinding, b: ApprovalBinding): boolean {
  return a.agent === b.agent && a.subject === b.subject && a.server === b.server && a.tool === b.tool && a.argsHash === b.argsHash && a.policyVersion === b.policyVersion;
}
