import type { PrincipalRole } from './principal.js';

/** What a request may need: the MCP endpoint, one part of the reviewer/approver/admin API, or the event ingest. */
export type Permission = 'call-tools' | 'read-log' | 'decide-approvals' | 'administer' | 'ingest-events';

/**
 * One permission per role, none implied by another: an admin who could also approve, or an
 * approver who could also rewrite the config, would undo the separation of duties that separate
 * tokens are for.
 */
const ROLE_PERMISSIONS: Readonly<Record<PrincipalRole, Permission>> = {
  agent: 'call-tools',
  reviewer: 'read-log',
  approver: 'decide-approvals',
  admin: 'administer',
  // Another system (CI, a vault) that appends its events to the log: it can neither read the log nor call tools.
  ingest: 'ingest-events',
};

export function isPermitted(role: PrincipalRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role] === permission;
}
