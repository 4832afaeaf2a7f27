import type { Client } from '@libsql/client';
import { z } from 'zod';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { Entry } from '../ledger/entry.js';
import type { CallRecord } from './call-record.js';
import { argumentsOf } from './call-view.js';
import { readTimeline } from './session-timeline.js';

/** A tool as a tools/list result the agent got showed it: the name it saw, and what it was told of the tool. */
const ListedToolSchema = z.looseObject({
  name: z.string().min(1),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.looseObject({ type: z.literal('object') }).optional(),
  annotations: z.looseObject({}).optional(),
});
export type ListedTool = z.infer<typeof ListedToolSchema>;

const ToolsListPayloadSchema = z.object({ result: z.looseObject({ tools: z.array(z.unknown()) }) });

/** What the recorder keeps of a call's outcome (src/gateway/call-recorder.ts). */
const OutcomePayloadSchema = z.union([
  z.object({ error: z.looseObject({ message: z.string(), code: z.number().int().optional() }) }),
  z.object({ result: z.looseObject({}) }),
]);

/** What the agent got for a recorded call: a result, a JSON-RPC error, or nothing a replay could give. */
export type RecordedAnswer =
  | { readonly kind: 'result'; readonly result: Record<string, unknown> }
  | { readonly kind: 'error'; readonly message: string; readonly code?: number | undefined }
  | { readonly kind: 'missing'; readonly reason: string };

/** One tools/call the agent made, as the log holds it. */
export interface RecordedToolCall {
  /** The index of its request entry. */
  readonly index: number;
  /** The name the agent called, e.g. `everything__echo`. */
  readonly name: string;
  /** The upstream and its own name for the tool, when the call went through the gateway's routing. */
  readonly server: string | undefined;
  readonly tool: string | undefined;
  /** SHA-256 of the canonical arguments the agent sent (before any redaction). */
  readonly argsHash: string;
  /** The arguments as recorded (secrets redacted); undefined when retention removed them. */
  readonly arguments: Record<string, unknown> | undefined;
  readonly answer: RecordedAnswer;
  /** The call with all its entries (outcome, decision, approvals, credentials). */
  readonly record: CallRecord;
}

/** The tools an agent was shown and the tool calls it made in one session, in the order it made them. */
export interface RecordedToolSession {
  readonly log: string;
  readonly session: string;
  /** Each tool by the name the agent saw, as the latest tools/list result of the session listed it. */
  readonly tools: readonly ListedTool[];
  readonly calls: readonly RecordedToolCall[];
}

/**
 * Reads one session's tool listings and tool calls. A replay needs all of them at once, so the
 * session is held in memory (its entries are read a page at a time all the same).
 */
export async function readRecordedToolSession(client: Client, log: string, session: string): Promise<RecordedToolSession> {
  const tools = new Map<string, ListedTool>();
  const calls: RecordedToolCall[] = [];
  for await (const item of readTimeline(client, log, { session })) {
    if (item.type !== 'call') continue;
    if (item.request.method === 'tools/list') {
      for (const tool of listedTools(item)) tools.set(tool.name, tool);
    } else if (item.request.kind === 'tool.call' && item.request.method === 'tools/call' && item.request.name !== undefined) {
      calls.push(recordedToolCall(item, item.request.name));
    }
  }
  return { log, session, tools: [...tools.values()], calls };
}

function listedTools(call: CallRecord): ListedTool[] {
  const parsed = ToolsListPayloadSchema.safeParse(call.outcome?.payload);
  if (!parsed.success) return [];
  return parsed.data.result.tools.flatMap((tool) => {
    const listed = ListedToolSchema.safeParse(tool);
    return listed.success ? [listed.data] : [];
  });
}

function recordedToolCall(call: CallRecord, name: string): RecordedToolCall {
  const { request } = call;
  const args = argumentsOf(request);
  const recordedArguments = isPlainObject(args) ? args : undefined;
  return {
    index: request.index,
    name,
    server: request.server,
    tool: request.tool,
    argsHash: request.argsHash ?? canonicalHash(recordedArguments ?? {}),
    arguments: recordedArguments,
    answer: answerOf(call.outcome),
    record: call,
  };
}

function answerOf(outcome: Entry | undefined): RecordedAnswer {
  if (outcome === undefined) return { kind: 'missing', reason: 'no outcome was recorded: the call was still running when the record ends' };
  // The recorder always keeps an outcome's payload; only retention removes it.
  if (outcome.payload === undefined) return { kind: 'missing', reason: 'its recorded result was removed by retention' };
  const parsed = OutcomePayloadSchema.safeParse(outcome.payload);
  if (!parsed.success) return { kind: 'missing', reason: `its recorded outcome is not a result or an error: ${JSON.stringify(outcome.payload)}` };
  if ('error' in parsed.data) return { kind: 'error', message: parsed.data.error.message, code: parsed.data.error.code };
  return { kind: 'result', result: parsed.data.result };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
