import type { AgentIdentity } from '../ledger/entry.js';
import type { CallBudgets } from './call-budgets.js';
import { ConditionError } from './cel-condition.js';
import { durationInWords, durationMs, waitInWords } from './duration-text.js';
import { anyGlobMatches } from './glob-pattern.js';
import type { ApprovalRequirement, RateLimit } from './policy-schema.js';
import type { CompiledRule, PolicySet } from './policy-set.js';
import type { ToolAnnotations } from './tool-annotations.js';

export type PolicyOutcome = 'allow' | 'deny' | 'limit' | 'require_approval';

/** One call as a policy sees it. */
export interface PolicyRequest {
  readonly agent: AgentIdentity;
  readonly server: string;
  readonly kind: 'tool' | 'resource';
  /** The upstream's own tool name, or the resource URI. */
  readonly target: string;
  readonly args: Record<string, unknown>;
  readonly annotations: ToolAnnotations;
}

/** A budget the call was counted against, or (outcome limit) the one it found spent. */
export interface BudgetUse {
  readonly rule: string;
  /** Calls in the window, this one included when it was counted. */
  readonly used: number;
  readonly calls: number;
  readonly per: string;
}

export interface PolicyDecision {
  readonly outcome: PolicyOutcome;
  /** The rule that decided; absent when no rule did and the default applied. */
  readonly rule?: { readonly id: string; readonly file: string };
  /** Why, in words the agent (and its model) and a reviewer can read. */
  readonly reason: string;
  readonly approval?: ApprovalRequirement;
  readonly budgets: readonly BudgetUse[];
}

/**
 * Decides one call. Rules are tried in order: the first allow, deny or require_approval that
 * matches decides; a limit that matches refuses the call when its budget is spent and otherwise
 * lets the following rules decide. The budgets a call passed are charged unless it is denied, so
 * a refused call costs no budget. A condition that cannot be evaluated denies the call (fail
 * closed): a rule that was meant to refuse must not let a call through because an argument was
 * missing or of another type than its author expected.
 */
export function decidePolicy(set: PolicySet, request: PolicyRequest, budgets: CallBudgets, now: number): PolicyDecision {
  const passed: { key: string; limit: RateLimit; use: BudgetUse }[] = [];
  let decision: PolicyDecision | undefined;
  for (const compiled of set.rules) {
    let applies: boolean;
    try {
      applies = ruleApplies(compiled, request);
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      decision = ruleDecision(compiled, 'deny', `rule "${compiled.rule.id}" refuses the call: its condition could not be evaluated (${error.message})`, passed);
      break;
    }
    if (!applies) continue;
    const { rule } = compiled;
    if (rule.action === 'limit' && rule.limit !== undefined) {
      const key = budgetKey(rule.id, rule.limit, request);
      const state = budgets.peek(key, rule.limit.calls, windowMs(rule.limit), now);
      if (state.retryAfterMs !== undefined) {
        const spent = { rule: rule.id, used: state.used, calls: rule.limit.calls, per: rule.limit.per };
        decision = ruleDecision(compiled, 'limit', spentReason(compiled, state.retryAfterMs), [...passed, { key, limit: rule.limit, use: spent }]);
        break;
      }
      passed.push({ key, limit: rule.limit, use: { rule: rule.id, used: state.used + 1, calls: rule.limit.calls, per: rule.limit.per } });
      continue;
    }
    decision = ruleDecision(compiled, rule.action, ruleReason(compiled), passed);
    break;
  }
  decision ??= {
    outcome: set.defaultOutcome,
    reason: `no policy rule matched this call; the default is ${set.defaultOutcome}`,
    budgets: passed.map((budget) => budget.use),
  };
  if (decision.outcome === 'allow' || decision.outcome === 'require_approval') {
    for (const budget of passed) budgets.charge(budget.key, budget.limit.calls, windowMs(budget.limit), now);
  }
  return decision;
}

function ruleApplies(compiled: CompiledRule, request: PolicyRequest): boolean {
  const isTool = request.kind === 'tool';
  const targets = isTool ? compiled.tools : compiled.resources;
  // A rule that names only tools says nothing about resource reads, and the other way round.
  if (targets === undefined && (isTool ? compiled.resources : compiled.tools) !== undefined) return false;
  if (!anyGlobMatches(compiled.agents, request.agent.id)) return false;
  if (!anyGlobMatches(compiled.servers, request.server)) return false;
  if (!anyGlobMatches(targets, request.target)) return false;
  return (
    compiled.condition?.holds({
      agent: request.agent,
      server: request.server,
      tool: isTool ? request.target : '',
      resource: isTool ? '' : request.target,
      args: request.args,
      annotations: { ...request.annotations },
    }) ?? true
  );
}

function ruleDecision(compiled: CompiledRule, outcome: PolicyOutcome, reason: string, budgets: readonly { use: BudgetUse }[]): PolicyDecision {
  const { rule } = compiled;
  return {
    outcome,
    rule: { id: rule.id, file: compiled.file },
    reason,
    ...(outcome === 'require_approval' && rule.approval !== undefined ? { approval: rule.approval } : {}),
    budgets: budgets.map((budget) => budget.use),
  };
}

function ruleReason(compiled: CompiledRule): string {
  const { rule } = compiled;
  if (rule.reason !== undefined) return rule.reason;
  if (rule.action === 'require_approval' && rule.approval !== undefined) {
    const { count, approvers } = rule.approval;
    return `rule "${rule.id}" needs the approval of ${count === 1 ? 'an approver' : `${count} different approvers`} from ${approvers.join(', ')}`;
  }
  return `${rule.action === 'allow' ? 'allowed' : 'refused'} by rule "${rule.id}"`;
}

function spentReason(compiled: CompiledRule, retryAfterMs: number): string {
  const { rule } = compiled;
  const limit = rule.limit!;
  const scope = limit.by.length === 0 ? '' : ` for each ${limit.by.join(' and ')}`;
  const budget = `rule "${rule.id}" allows ${limit.calls} call${limit.calls === 1 ? '' : 's'} per ${durationInWords(limit.per, { afterPer: true })}${scope}`;
  return `${rule.reason === undefined ? '' : `${rule.reason}: `}${budget}; try again in ${waitInWords(retryAfterMs)}`;
}

/** Each limit keeps its budgets apart from other limits', and a changed limit starts afresh. */
function budgetKey(ruleId: string, limit: RateLimit, request: PolicyRequest): string {
  const parts = [ruleId, `${limit.calls}/${limit.per}`];
  // Anonymous agents (loopback without a token, wrap) share one budget: they cannot be told apart.
  if (limit.by.includes('agent')) parts.push(`agent:${request.agent.id ?? ''}`);
  if (limit.by.includes('tool')) parts.push(`${request.kind}:${request.server}/${request.target}`);
  return JSON.stringify(parts);
}

function windowMs(limit: RateLimit): number {
  return durationMs(limit.per) ?? 0;
}
