import { z } from 'zod';
import type { Entry, EntryOutcome } from '../ledger/entry.js';
import type { CallRecord } from './call-record.js';
import { POLICY_DECISION_KIND } from './call-record.js';

/**
 * What review reads of a policy.decision entry's payload (src/gateway/policed-call.ts writes it):
 * the outcome (`allow`, `deny`, `limit`, `require_approval`), the rule that made it, the policy
 * version, and the reason given to the agent. Loose: the entry holds more (file, annotations, budgets).
 */
export const PolicyDecisionPayloadSchema = z.looseObject({
  outcome: z.string(),
  rule: z.string().optional(),
  policyVersion: z.string().optional(),
  reason: z.string().optional(),
});
export type PolicyDecisionPayload = z.infer<typeof PolicyDecisionPayloadSchema>;

const DENY = 'deny';
/** Outcomes a reviewer counts as errors: the call ran (or tried to) and failed. */
const ERROR_OUTCOMES: readonly EntryOutcome[] = ['error', 'timeout'];

export function policyDecisionOf(entry: Entry): PolicyDecisionPayload | undefined {
  const parsed = PolicyDecisionPayloadSchema.safeParse(entry.payload);
  return parsed.success ? parsed.data : undefined;
}

/** A call the gateway refused to run, whether a policy denied it or the gateway refused it itself. */
export function isDenied(call: CallRecord): boolean {
  return call.outcome?.outcome === 'refused' || call.decisions.some((entry) => policyDecisionOf(entry)?.outcome === DENY);
}

/**
 * The same as isDenied, for one entry row of the `entries` table named `alias` in SQL: a
 * refused tool.result, or a denying policy.decision. Counting the distinct `call` of the rows it
 * holds for counts each denied call once.
 */
export function deniedEntrySql(alias: string): string {
  const body = `CAST(${alias}.body AS TEXT)`;
  return (
    `((${alias}.kind = 'tool.result' AND json_extract(${body}, '$.outcome') = 'refused') OR ` +
    `(${alias}.kind = '${POLICY_DECISION_KIND}' AND json_extract(${body}, '$.payload.outcome') = '${DENY}'))`
  );
}

/** A tool.result row (named `alias` in SQL) of a call that failed: an error or a timeout. */
export function errorEntrySql(alias: string): string {
  const outcomes = ERROR_OUTCOMES.map((outcome) => `'${outcome}'`).join(', ');
  return `(${alias}.kind = 'tool.result' AND json_extract(CAST(${alias}.body AS TEXT), '$.outcome') IN (${outcomes}))`;
}
