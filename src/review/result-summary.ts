import { z } from 'zod';
import type { CallRecord } from './call-record.js';
import { policyDecisionOf } from './call-verdict.js';

const ContentPartSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  mimeType: z.string().optional(),
  uri: z.string().optional(),
  resource: z.looseObject({ uri: z.string().optional() }).optional(),
});

/** The recorded result of a call (the payload of its tool.result or mcp.result entry). */
const OutcomePayloadSchema = z.union([
  z.object({ error: z.looseObject({ message: z.string(), code: z.number().optional() }) }),
  z.object({ result: z.looseObject({ content: z.array(ContentPartSchema).optional(), isError: z.boolean().optional() }) }),
]);

export const REMOVED_BY_RETENTION = '(payload removed by retention)';

// List and read results, summarized by what they hold.
const COLLECTIONS = ['tools', 'resources', 'resourceTemplates', 'prompts', 'contents', 'messages', 'roots'] as const;

/** One line that says what a call returned, as far as the record shows. */
export function summarizeOutcome(call: CallRecord): string {
  if (call.outcome === undefined) {
    const refusal = call.decisions.map(policyDecisionOf).find((decision) => decision?.outcome === 'deny');
    if (refusal !== undefined) return `denied by policy${refusal.reason === undefined ? '' : `: ${refusal.reason}`}`;
    return 'no outcome recorded: the call was still running when the record ends';
  }
  // The recorder always keeps an outcome's payload; only retention removes it.
  if (call.outcome.payload === undefined) return REMOVED_BY_RETENTION;
  const parsed = OutcomePayloadSchema.safeParse(call.outcome.payload);
  if (!parsed.success) return compactJson(call.outcome.payload ?? null);
  if ('error' in parsed.data) {
    const { message, code } = parsed.data.error;
    return code === undefined ? message : `${message} (code ${code})`;
  }
  const result = parsed.data.result;
  if (result.content !== undefined) return result.content.map(describePart).join(' | ') || '(no content)';
  for (const collection of COLLECTIONS) {
    const items = result[collection];
    if (Array.isArray(items)) return `${items.length} ${collection}`;
  }
  return compactJson(result);
}

function describePart(part: z.infer<typeof ContentPartSchema>): string {
  switch (part.type) {
    case 'text':
      return (part.text ?? '').replace(/\s+/g, ' ').trim();
    case 'resource_link':
      return `[link ${part.uri ?? '?'}]`;
    case 'resource':
      return `[resource ${part.resource?.uri ?? '?'}]`;
    default:
      return `[${part.type}${part.mimeType === undefined ? '' : ` ${part.mimeType}`}]`;
  }
}

function compactJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}
