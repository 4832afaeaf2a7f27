import type { ApproverConfig } from '../config/config-schema.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import type { ApproverGroups } from '../policy/policy-set.js';

/** A person who may decide approval requests, as the config registers them. */
export interface Approver {
  readonly name: string;
  /** Their verifier key, in its normal form. */
  readonly key: string;
  readonly groups: readonly string[];
  /** Agent names and OAuth subjects that are this person. */
  readonly identities: readonly string[];
}

/** What an approver is asked to decide: who made the call, and whom the rule asks. */
export interface DecisionSubject {
  readonly agent: AgentIdentity;
  /** The approver groups the rule names. */
  readonly approvers: readonly string[];
}

/** The approvers of the config, found by the key that signed a decision. */
export class ApproverRegistry {
  readonly #byKey = new Map<string, Approver>();

  constructor(approvers: Readonly<Record<string, ApproverConfig>>) {
    for (const [name, config] of Object.entries(approvers)) {
      const key = parseVerifierKey(config.key).verifierKey;
      this.#byKey.set(key, { name, key, groups: config.groups, identities: config.identities });
    }
  }

  byKey(verifierKey: string): Approver | undefined {
    try {
      return this.#byKey.get(parseVerifierKey(verifierKey).verifierKey);
    } catch {
      return undefined;
    }
  }

  /** The members of each group, for checking what policies ask of them. */
  get groups(): ApproverGroups {
    const groups = new Map<string, Set<string>>();
    for (const approver of this.#byKey.values()) {
      for (const group of approver.groups) groups.set(group, (groups.get(group) ?? new Set()).add(approver.name));
    }
    return groups;
  }

  /**
   * Why this approver may not decide this request; undefined when they may. A person decides only
   * for the groups they are in, and never a call made under their own identity: the agent's name
   * or the subject (the human) it acts for.
   */
  refusal(approver: Approver, subject: DecisionSubject): string | undefined {
    if (!subject.approvers.some((group) => approver.groups.includes(group))) {
      return `approver "${approver.name}" is not in ${subject.approvers.length === 1 ? 'group' : 'any of the groups'} ${subject.approvers.join(', ')} that the rule asks`;
    }
    const own = [approver.name, ...approver.identities];
    const caller = [subject.agent.id, subject.agent.subject].find((identity) => identity !== undefined && own.includes(identity));
    if (caller !== undefined) return `approver "${approver.name}" cannot decide a call made under their own identity (${caller})`;
    return undefined;
  }
}
