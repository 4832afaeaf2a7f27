import { durationInWords } from './duration-text.js';
import type { CompiledRule, PolicySet } from './policy-set.js';

/** One rule in words, for `agenttrail policy check`. */
export interface RuleExplanation {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** Set when an earlier rule decides every call this one could see. */
  readonly unreachableAfter?: string;
}

/** Every rule in the order they apply, in words; then what the default does, if anything reaches it. */
export function explainPolicy(policy: PolicySet): { rules: RuleExplanation[]; defaultText: string } {
  let decidesAll: string | undefined;
  const rules = policy.rules.map((compiled): RuleExplanation => {
    const explanation = {
      id: compiled.rule.id,
      file: compiled.file,
      line: compiled.line,
      text: explainRule(compiled),
      ...(decidesAll === undefined ? {} : { unreachableAfter: decidesAll }),
    };
    if (decidesAll === undefined && decidesEveryCall(compiled)) decidesAll = compiled.rule.id;
    return explanation;
  });
  const defaultText =
    decidesAll === undefined
      ? `${policy.defaultOutcome === 'allow' ? 'Allow' : 'Deny'} every call that no rule decides (the default).`
      : `The default (${policy.defaultOutcome}) is never reached: rule ${decidesAll} decides every call.`;
  return { rules, defaultText };
}

export function explainRule(compiled: CompiledRule): string {
  const { rule } = compiled;
  const subject = describeCalls(compiled);
  switch (rule.action) {
    case 'allow':
      return `Allow ${subject}.`;
    case 'deny':
      return `Deny ${subject}. The agent is told: "${rule.reason ?? ''}"`;
    case 'require_approval': {
      const { count, approvers, timeout, clientUser } = rule.approval!;
      const who = count === 1 ? 'an approver' : `${count} different approvers`;
      const orUser = clientUser ? " (or the user at the agent's client, asked through elicitation)" : '';
      return `Hold ${subject} until ${who} from ${approvers.join(', ')}${orUser} approve${count === 1 ? 's' : ''}; refuse after ${durationInWords(timeout)} without a decision.`;
    }
    case 'limit': {
      const { calls, per, by } = rule.limit!;
      const scope = by.length === 0 ? 'shared by all of them' : `for each ${by.join(' and ')}`;
      return `Limit ${subject} to ${calls} per ${durationInWords(per, { afterPer: true })} ${scope}; refuse the calls beyond, and let the following rules decide the others.`;
    }
  }
}

function describeCalls(compiled: CompiledRule): string {
  const { rule } = compiled;
  const targets = [
    ...(rule.tools === undefined ? [] : [`calls of ${plural('tool', rule.tools)}`]),
    ...(rule.resources === undefined ? [] : [`reads of ${plural('resource', rule.resources)}`]),
  ];
  const what = targets.length === 0 ? 'every tool call and resource read' : targets.join(' and ');
  const servers = rule.servers === undefined ? '' : ` on ${plural('server', rule.servers)}`;
  const agents = rule.agents === undefined ? ' by any agent' : ` by ${plural('agent', rule.agents)}`;
  const when = rule.when === undefined ? '' : ` when ${rule.when.trim()}`;
  return `${what}${servers}${agents}${when}`;
}

function plural(noun: string, names: readonly string[]): string {
  return `${noun}${names.length === 1 ? '' : 's'} ${names.join(', ')}`;
}

/** A rule that allows, denies or holds without any condition leaves nothing for the rules after it. */
function decidesEveryCall(compiled: CompiledRule): boolean {
  const { rule } = compiled;
  return (
    rule.action !== 'limit' &&
    rule.agents === undefined &&
    rule.servers === undefined &&
    rule.tools === undefined &&
    rule.resources === undefined &&
    rule.when === undefined
  );
}
