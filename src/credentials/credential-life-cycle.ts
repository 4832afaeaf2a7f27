import { z } from 'zod';
import { LifeCycleError } from '../auth/principal-life-cycle.js';

/** What an operator records of a credential; each is the ledger entry `credential.<past tense>`. */
export const CredentialActionSchema = z.enum(['add', 'rotate', 'revoke']);
export type CredentialAction = z.infer<typeof CredentialActionSchema>;

export const CREDENTIAL_ENTRY_KINDS: Readonly<Record<CredentialAction, string>> = {
  add: 'credential.added',
  rotate: 'credential.rotated',
  revoke: 'credential.revoked',
};

/** A revoked credential is never delegated again, by a running gateway neither. */
export const CredentialStatusSchema = z.enum(['active', 'revoked']);
export type CredentialStatus = z.infer<typeof CredentialStatusSchema>;

/** A credential as its life cycle recorded it: the keyed fingerprint of its secret, never the secret. */
export interface CredentialState {
  readonly status: CredentialStatus;
  readonly fingerprint: string | null;
}

/**
 * The status after `action`, or a LifeCycleError. `current` is the credential as recorded
 * (undefined when nothing is); `fingerprint` that of the secret now at its source (add, rotate).
 * Revocation is final, and needs no earlier add: a leaked secret must be stoppable at once.
 */
export function credentialStatusAfter(action: CredentialAction, name: string, current: CredentialState | undefined, fingerprint?: string): CredentialStatus {
  if (current?.status === 'revoked') {
    throw new LifeCycleError(
      action === 'add'
        ? `credential "${name}" was revoked and its name cannot be used again; configure the new secret under a new name`
        : `credential "${name}" is revoked, which is final`,
    );
  }
  switch (action) {
    case 'add':
      if (current !== undefined) throw new LifeCycleError(`credential "${name}" was added already; once its secret has changed at the source, use rotate`);
      return 'active';
    case 'rotate':
      if (current === undefined) throw new LifeCycleError(`credential "${name}" has not been added (agenttrail credentials add ${name})`);
      if (current.fingerprint === fingerprint) {
        throw new LifeCycleError(`the secret at the source of credential "${name}" is the one recorded already (${fingerprint}); change it at the source first`);
      }
      return 'active';
    case 'revoke':
      return 'revoked';
  }
}
