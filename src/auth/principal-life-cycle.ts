import { z } from 'zod';
import type { Principal, PrincipalStatus } from './principal.js';

/** What an operator can do to a principal; each is recorded as the ledger entry `agent.<past tense>`. */
export const LifeCycleActionSchema = z.enum(['add', 'suspend', 'resume', 'revoke', 'rotate']);
export type LifeCycleAction = z.infer<typeof LifeCycleActionSchema>;

export const LIFE_CYCLE_ENTRY_KINDS: Readonly<Record<LifeCycleAction, string>> = {
  add: 'agent.added',
  suspend: 'agent.suspended',
  resume: 'agent.resumed',
  revoke: 'agent.revoked',
  rotate: 'agent.rotated',
};

/** The action does not apply to the principal as it is; the message says why and what to do. */
export class LifeCycleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LifeCycleError';
  }
}

/**
 * The status a principal has after `action`, or a LifeCycleError. `current` is the principal as
 * stored (undefined when there is none); `add` is the only action that needs none. Revocation is
 * final: a revoked name is never reused, so no later entry can be mistaken for its old owner's.
 */
export function statusAfter(action: LifeCycleAction, name: string, current: Principal | undefined): PrincipalStatus {
  if (action === 'add') {
    if (current === undefined) return 'active';
    throw new LifeCycleError(
      current.status === 'revoked'
        ? `"${name}" was revoked and its name cannot be used again; add the principal under a new name`
        : `"${name}" already exists (${current.role}, ${current.status}); use rotate for a new token`,
    );
  }
  if (current === undefined) throw new LifeCycleError(`there is no principal named "${name}" (see agenttrail agents list)`);
  if (current.status === 'revoked') throw new LifeCycleError(`"${name}" is revoked, which is final; it cannot be ${PAST_TENSE[action]}`);
  switch (action) {
    case 'suspend':
      if (current.status === 'suspended') throw new LifeCycleError(`"${name}" is already suspended`);
      return 'suspended';
    case 'resume':
      if (current.status === 'active') throw new LifeCycleError(`"${name}" is active, not suspended`);
      return 'active';
    case 'revoke':
      return 'revoked';
    case 'rotate':
      // A suspended principal keeps its status: a new token is how a leaked one is replaced
      // before the principal is resumed.
      return current.status;
  }
}

const PAST_TENSE: Readonly<Record<Exclude<LifeCycleAction, 'add'>, string>> = {
  suspend: 'suspended',
  resume: 'resumed',
  revoke: 'revoked again',
  rotate: 'rotated',
};
