import { z } from 'zod';
import { withoutMarkerCommitments } from '../credentials/redaction-marker.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { CallRecord } from './call-record.js';
import { isDenied, policyDecisionOf } from './call-verdict.js';
import { compactDiff, diffLines } from './line-diff.js';
import type { RecordedAnswer, RecordedToolCall } from './recorded-tool-calls.js';
import { summarizeOutcome } from './result-summary.js';

/** How a recorded call fared when it was run again. */
export type RerunVerdict =
  | { readonly status: 'same' }
  | { readonly status: 'different'; readonly diff: readonly string[] }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'skipped'; readonly reason: string };

const ContentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional(), mimeType: z.string().optional() });
const ToolResultSchema = z.looseObject({
  content: z.array(ContentPartSchema).default([]),
  structuredContent: z.unknown().optional(),
  isError: z.boolean().default(false),
});

/**
 * Compares a recorded call with its rerun, both as the log holds them (so both with the same
 * secrets redacted): what the agent would read (content, structured content, whether it is a tool
 * error, or the JSON-RPC error) must be the same, redaction markers but for their nonce and
 * commitment (see withoutMarkerCommitments); `_meta` is not compared. A rerun the gateway
 * refused is `refused`, unless the recorded call was refused too, in which case the two refusals are
 * compared like any outcome.
 */
export function compareRerun(recorded: RecordedToolCall, rerun: RecordedToolCall): RerunVerdict {
  if (isDenied(rerun.record) && !isDenied(recorded.record)) return { status: 'refused', reason: refusalOf(rerun.record) };
  if (comparableHash(recorded.answer) === comparableHash(rerun.answer)) return { status: 'same' };
  // Structured content mostly repeats the text: it is shown only where the text is the same.
  const changed = [answerLines, structuredLines]
    .map((lines) => diffLines(lines(recorded.answer), lines(rerun.answer)))
    .find((diff) => diff.some((line) => line.op !== ' '));
  return { status: 'different', diff: changed === undefined ? ['(they differ only in line ends or spacing; agenttrail show --json has both)'] : compactDiff(changed) };
}

function refusalOf(call: CallRecord): string {
  const denial = call.decisions.map(policyDecisionOf).find((decision) => decision?.outcome === 'deny');
  if (denial === undefined) return summarizeOutcome(call);
  return `denied by policy${denial.rule === undefined ? '' : ` (rule ${denial.rule})`}${denial.reason === undefined ? '' : `: ${denial.reason}`}`;
}

function comparableHash(answer: RecordedAnswer): string {
  const parsed = answer.kind === 'result' ? ToolResultSchema.safeParse(answer.result) : undefined;
  const compared = parsed?.success === true ? { content: parsed.data.content, isError: parsed.data.isError, structuredContent: parsed.data.structuredContent ?? null } : answer;
  return canonicalHash(JSON.parse(withoutMarkerCommitments(JSON.stringify(compared))));
}

/** An outcome as lines of text, for a line diff: text content line by line, other content by its digest, markers cut. */
export function answerLines(answer: RecordedAnswer): string[] {
  return withoutMarkerCommitments(answerText(answer)).split('\n');
}

function answerText(answer: RecordedAnswer): string {
  switch (answer.kind) {
    case 'missing':
      return `(${answer.reason})`;
    case 'error':
      return `error: ${answer.message}${answer.code === undefined ? '' : ` (code ${answer.code})`}`;
    case 'result': {
      const parsed = ToolResultSchema.safeParse(answer.result);
      if (!parsed.success) return JSON.stringify(answer.result, null, 2);
      const parts = parsed.data.content.map((part) =>
        part.type === 'text' && part.text !== undefined
          ? part.text.replace(/\n$/, '')
          : `[${part.type}${part.mimeType === undefined ? '' : ` ${part.mimeType}`} sha256:${canonicalHash(part).slice(0, 16)}]`,
      );
      return [...(parsed.data.isError ? ['(tool error)'] : []), ...parts].join('\n');
    }
  }
}

function structuredLines(answer: RecordedAnswer): string[] {
  const structured = answer.kind === 'result' ? ToolResultSchema.safeParse(answer.result).data?.structuredContent : undefined;
  return structured === undefined ? [] : withoutMarkerCommitments(`structuredContent ${JSON.stringify(structured, null, 2)}`).split('\n');
}
