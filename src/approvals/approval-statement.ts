import { z } from 'zod';
import { decodeBase64, encodeBase64 } from '../ledger/base64.js';
import { canonicalBytes } from '../ledger/canonical-json.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import type { NoteSigner } from '../ledger/note-keys.js';

export const APPROVAL_STATEMENT_TYPE = 'agenttrail.approval-decision/v1';

/**
 * What an approver signs: one decision on one approval request, named by its place in the log and
 * the SHA-256 of its stored entry, which binds the agent, server, tool, arguments hash, policy
 * version and expiry. Signed as its RFC 8785 canonical JSON with the approver's own Ed25519 key,
 * so that neither the gateway nor anyone holding its key can make or change a person's decision.
 */
export const ApprovalStatementSchema = z.strictObject({
  type: z.literal(APPROVAL_STATEMENT_TYPE),
  /** The log (checkpoint origin) that holds the request. */
  log: z.string().min(1),
  request: z.strictObject({
    id: z.string().min(1),
    index: z.number().int().nonnegative(),
    /** Hex SHA-256 of the request entry's stored bytes (its leaf's content). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().optional(),
  /** The approver's verifier key (name+keyid+base64). */
  approver: z.string().min(1),
  time: z.iso.datetime({ precision: 3 }),
});
export type ApprovalStatement = z.infer<typeof ApprovalStatementSchema>;

/** The base64 Ed25519 signature of the statement's canonical bytes by `signer`. */
export function signApprovalStatement(statement: ApprovalStatement, signer: NoteSigner): string {
  if (signer.verifierKey !== statement.approver) throw new Error(`the statement names approver key ${statement.approver}, not ${signer.verifierKey}`);
  return encodeBase64(signer.sign(canonicalBytes(statement)));
}

/** Whether `signature` is the statement's approver's signature over it. */
export function approvalSignatureHolds(statement: ApprovalStatement, signature: string): boolean {
  try {
    return parseVerifierKey(statement.approver).verify(canonicalBytes(statement), decodeBase64(signature, 'the approval signature'));
  } catch {
    return false;
  }
}
