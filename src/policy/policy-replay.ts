import { z } from 'zod';
import type { Entry } from '../ledger/entry.js';
import { CallBudgets } from './call-budgets.js';
import { decidePolicy } from './policy-decision.js';
import type { PolicyOutcome, PolicyRequest } from './policy-decision.js';
import type { PolicySet } from './policy-set.js';
import { RESOURCE_READ_ANNOTATIONS, toolAnnotations } from './tool-annotations.js';

const OUTCOMES = ['allow', 'deny', 'limit', 'require_approval'] as const;

const RecordedDecisionSchema = z.looseObject({
  outcome: z.enum(OUTCOMES),
  policyVersion: z.string().optional(),
  rule: z.string().optional(),
  annotations: z.unknown().optional(),
});

const ToolCallPayloadSchema = z.looseObject({
  params: z.looseObject({ arguments: z.record(z.string(), z.unknown()).optional() }).optional(),
});

const ResourceReadPayloadSchema = z.looseObject({
  params: z.record(z.string(), z.unknown()).optional(),
});

/** How a call was decided: by a policy then (a version and maybe a rule), or by none. */
export interface ReplayDecision {
  readonly outcome: PolicyOutcome;
  readonly rule?: string;
  /** Absent when no policy was in force: the call went upstream. */
  readonly policyVersion?: string;
  readonly reason?: string;
}

export interface ReplayedCall {
  /** The index of the call's request entry in the log. */
  readonly index: number;
  readonly time: string;
  readonly session: string;
  /** The authenticated agent; absent for anonymous ones. */
  readonly agent?: string;
  readonly server: string;
  readonly kind: 'tool' | 'resource';
  /** The upstream's tool name or the resource URI. */
  readonly target: string;
  readonly recorded: ReplayDecision;
  readonly proposed: ReplayDecision;
}

export interface PolicyReplay {
  /** The proposed policy's version. */
  readonly policyVersion: string;
  /** How many tool calls and resource reads were replayed. */
  readonly calls: number;
  /** The calls the proposed policy decides otherwise than they were decided, in log order. */
  readonly differences: ReplayedCall[];
}

interface PendingCall {
  readonly request: Entry;
  readonly kind: 'tool' | 'resource';
  decision?: z.infer<typeof RecordedDecisionSchema>;
}

/**
 * Decides the recorded tool calls and resource reads again with a proposed policy, in log order
 * and on the log's clock (so rate limits count as they would have), and lists those it decides
 * otherwise. A call sees the annotations its recorded decision saw; one recorded without a policy
 * sees those that a decision anywhere in the log saw for the same tool, else the MCP defaults
 * (unannotated: destructive). Its arguments are the recorded ones, so a condition on a secret the
 * log redacted sees the redaction marker.
 */
export async function replayPolicy(policy: PolicySet, pages: AsyncIterable<readonly Entry[]>): Promise<PolicyReplay> {
  const calls = new Map<string, PendingCall>();
  const seenAnnotations = new Map<string, unknown>();
  for await (const page of pages) {
    for (const entry of page) {
      if (entry.call === undefined) continue;
      const kind = entry.kind === 'tool.call' ? 'tool' : entry.kind === 'mcp.request' && entry.method === 'resources/read' ? 'resource' : undefined;
      if (kind !== undefined) calls.set(entry.call, { request: entry, kind });
      if (entry.kind === 'policy.decision') {
        const pending = calls.get(entry.call);
        const decision = RecordedDecisionSchema.safeParse(entry.payload);
        if (pending !== undefined && decision.success) pending.decision = decision.data;
        if (decision.success && decision.data.annotations !== undefined) seenAnnotations.set(toolKey(entry), decision.data.annotations);
      }
    }
  }
  const budgets = new CallBudgets();
  const differences: ReplayedCall[] = [];
  for (const pending of calls.values()) {
    const { request } = pending;
    const asked = replayedRequest(pending, pending.decision?.annotations ?? seenAnnotations.get(toolKey(request)));
    if (asked === undefined) continue;
    const proposed = decidePolicy(policy, asked, budgets, Date.parse(request.time));
    const { decision } = pending;
    const recorded: ReplayDecision = decision === undefined ? { outcome: 'allow' } : { outcome: decision.outcome, rule: decision.rule, policyVersion: decision.policyVersion };
    if (recorded.outcome === proposed.outcome) continue;
    differences.push({
      index: request.index,
      time: request.time,
      session: request.session,
      agent: request.agent.id,
      server: asked.server,
      kind: asked.kind,
      target: asked.target,
      recorded,
      proposed: { outcome: proposed.outcome, rule: proposed.rule?.id, policyVersion: policy.version, reason: proposed.reason },
    });
  }
  return { policyVersion: policy.version, calls: calls.size, differences };
}

function replayedRequest(pending: PendingCall, annotations: unknown): PolicyRequest | undefined {
  const { request, kind } = pending;
  if (request.server === undefined || request.tool === undefined) return undefined;
  const common = { agent: request.agent, server: request.server, target: request.tool };
  if (kind === 'resource') {
    const payload = ResourceReadPayloadSchema.safeParse(request.payload);
    return { ...common, kind, args: (payload.success ? payload.data.params : undefined) ?? { uri: request.tool }, annotations: RESOURCE_READ_ANNOTATIONS };
  }
  const payload = ToolCallPayloadSchema.safeParse(request.payload);
  return { ...common, kind, args: (payload.success ? payload.data.params?.arguments : undefined) ?? {}, annotations: toolAnnotations(annotations) };
}

function toolKey(entry: Entry): string {
  return JSON.stringify([entry.server, entry.tool]);
}
