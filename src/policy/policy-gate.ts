import { CallBudgets } from './call-budgets.js';
import { decidePolicy } from './policy-decision.js';
import type { PolicyDecision, PolicyRequest } from './policy-decision.js';
import type { PolicySet } from './policy-set.js';

/**
 * The policy in force at a gateway: what decides each call, swapped whole when the policy folder
 * changes, so that a call is always decided by one version. Rate-limit budgets outlive a reload.
 */
export class PolicyGate {
  #policy: PolicySet;
  readonly #budgets = new CallBudgets();

  constructor(
    policy: PolicySet,
    private readonly now: () => number = Date.now,
  ) {
    this.#policy = policy;
  }

  get policy(): PolicySet {
    return this.#policy;
  }

  replace(policy: PolicySet): void {
    this.#policy = policy;
  }

  /** The decision, and the version of the policy that made it. */
  decide(request: PolicyRequest): { decision: PolicyDecision; version: string } {
    const policy = this.#policy;
    return { decision: decidePolicy(policy, request, this.#budgets, this.now()), version: policy.version };
  }
}
