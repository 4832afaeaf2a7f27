import type { AgentIdentity } from '../ledger/entry.js';

/** A new approval request, as the people who may decide it are told of it. */
export interface ApprovalNotice {
  readonly id: string;
  /** The session of the call it holds: where the log keeps what becomes of it. */
  readonly session: string;
  readonly agent: AgentIdentity;
  readonly server: string;
  /** The upstream's own tool name, or the resource URI. */
  readonly tool: string;
  readonly argsHash: string;
  readonly policyVersion: string;
  readonly rule: string;
  readonly approvers: readonly string[];
  readonly count: number;
  readonly expires: string;
  readonly clientUser: boolean;
}

/** Tells people of new approval requests. Returns at once: telling them never holds up a call. */
export interface ApprovalAnnouncer {
  announce(notice: ApprovalNotice): void;
}
