import { z } from 'zod';
import { approverGroupSchema } from '../config/config-schema.js';
import { compileCondition } from './cel-condition.js';
import { DURATION_PATTERN, durationMs } from './duration-text.js';

// The schema of one policy file (policies/*.yaml). Objects are strict, so a misspelt key is an
// error instead of a rule that silently matches more than it says. The JSON Schema for editors is
// generated from this (policy-json-schema.ts): descriptions here are what users see on hover.

const MAX_TIMER_MS = 2_147_483_647; // setTimeout's limit
const MAX_WINDOW_MS = 366 * 86_400_000;
/** A sliding window keeps one timestamp per call it counts (call-budgets.ts). */
export const MAX_LIMIT_CALLS = 100_000;

function durationSchema(max: number, maxText: string) {
  return z
    .string()
    .regex(DURATION_PATTERN, { error: 'expected a number and a unit: s, m, h or d (e.g. 30s, 15m, 1h, 7d)', abort: true })
    .refine((text) => (durationMs(text) ?? Infinity) <= max, `must be at most ${maxText}`);
}

const globListSchema = (what: string) =>
  z
    .array(z.string().min(1, 'expected a name or a glob'))
    .min(1, `expected at least one ${what}; leave the key out to match any`)
    .optional();

export const approvalSchema = z
  .strictObject({
    approvers: z
      .array(approverGroupSchema)
      .min(1, 'expected at least one approver group')
      .describe('Approver groups (from the config) whose members may decide; any of them.'),
    count: z
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(10, 'must be at most 10')
      .default(1)
      .describe('How many distinct approvers must approve. Default 1.'),
    timeout: durationSchema(MAX_TIMER_MS, '24d')
      .default('15m')
      .describe('How long the call waits for the decision before it is refused, e.g. 15m. Default 15m.'),
    clientUser: z
      .boolean('expected true or false')
      .default(false)
      .describe(
        "true: the person at the agent's client is asked too (MCP elicitation, when the client supports it) and may approve or deny the call " +
          "in the approvers' place. A weaker approval than an approver's signed one (the agent's own side answers it), recorded as client-user. Default false.",
      ),
  })
  .describe('Who must approve a call held by require_approval.');

export const limitSchema = z
  .strictObject({
    calls: z
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_LIMIT_CALLS, `must be at most ${MAX_LIMIT_CALLS}`)
      .describe('How many calls are allowed in any window of the given length.'),
    per: durationSchema(MAX_WINDOW_MS, '366d').describe('The length of the sliding window, e.g. 1h.'),
    by: z
      .array(z.enum(['agent', 'tool'], 'expected "agent" or "tool"'))
      .default(['agent'])
      .refine((parts) => new Set(parts).size === parts.length, 'lists a part twice')
      .describe('What gets a budget of its own: each agent, each tool (of each server), or both. [] shares one budget. Default [agent].'),
  })
  .describe('A rate limit: calls beyond it are refused until the window moves on.');

export const ACTIONS = ['allow', 'deny', 'require_approval', 'limit'] as const;

export const policyRuleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected letters, digits, "_", "." and "-", starting with a letter or digit')
      .describe('Names the rule in decisions and in the log; unique across all policy files.'),
    description: z.string().optional().describe('What the rule is for, in words.'),
    agents: globListSchema('agent').describe('Agent names (agenttrail agents, or OAuth clients), as globs. Absent: any agent, anonymous ones too.'),
    servers: globListSchema('server').describe('Upstream server names from the config, as globs. Absent: any server.'),
    tools: globListSchema('tool').describe("The upstream's own tool names, as globs (* is any run of characters, ? one character)."),
    resources: globListSchema('resource').describe('Resource URIs read with resources/read, as globs. With neither tools nor resources the rule covers both.'),
    when: z
      .string()
      .min(1, 'expected a CEL expression')
      .superRefine((text, context) => {
        const compiled = compileCondition(text);
        if (typeof compiled === 'string') context.addIssue({ code: 'custom', message: compiled });
      })
      .optional()
      .describe('A CEL condition over agent, server, tool, resource, args and annotations, e.g. !isWithin(args.path, "/tmp/work").'),
    action: z.enum(ACTIONS, 'expected allow, deny, require_approval or limit').describe(
      'allow and deny end the evaluation; require_approval holds the call for a human; limit counts the call and, within its budget, goes on to the next rules.',
    ),
    reason: z.string().min(1, 'must not be empty').optional().describe('Shown to the agent (and recorded) when the call is refused or held.'),
    approval: approvalSchema.optional(),
    limit: limitSchema.optional(),
  })
  .superRefine((rule, context) => {
    const needs = (key: 'reason' | 'approval' | 'limit', what: string) => {
      if (rule[key] === undefined) context.addIssue({ code: 'custom', path: ['action'], message: `action ${rule.action} needs ${what}` });
    };
    const refuses = (key: 'approval' | 'limit') => {
      if (rule[key] !== undefined) context.addIssue({ code: 'custom', path: [key], message: `applies only to action ${key === 'approval' ? 'require_approval' : 'limit'}` });
    };
    if (rule.action === 'deny') needs('reason', 'a reason: (shown to the agent)');
    if (rule.action === 'require_approval') needs('approval', 'approval: (approvers, count, timeout)');
    else refuses('approval');
    if (rule.action === 'limit') needs('limit', 'limit: (calls, per)');
    else refuses('limit');
  })
  .describe('One rule. Rules are tried in order (files by name, then top to bottom); the first allow, deny or require_approval that matches decides.');

export const policyFileSchema = z
  .strictObject({
    rules: z.array(policyRuleSchema).describe('The rules of this file, in order.'),
  })
  .meta({ title: 'AgentTrail policy file (policies/*.yaml)' });

export type PolicyFile = z.infer<typeof policyFileSchema>;
export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type PolicyAction = PolicyRule['action'];
export type ApprovalRequirement = z.infer<typeof approvalSchema>;
export type RateLimit = z.infer<typeof limitSchema>;
