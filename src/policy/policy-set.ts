import { ConfigError } from '../config/config-error.js';
import { sha256Hex } from '../ledger/canonical-json.js';
import type { ConfigIssue } from '../config/config-error.js';
import { defaultIssueMessages, describeSchemaIssues } from '../config/config-issue-messages.js';
import { readYamlDocument } from '../config/yaml-document.js';
import { compileCondition } from './cel-condition.js';
import type { Condition } from './cel-condition.js';
import { globMatcher } from './glob-pattern.js';
import { policyFileSchema } from './policy-schema.js';
import type { ApprovalRequirement, PolicyRule } from './policy-schema.js';
import { inRuleOrder, policyVersion } from './policy-version.js';
import type { PolicySource } from './policy-version.js';

export type DefaultOutcome = 'allow' | 'deny';

/** A rule ready to be matched, with where it was written. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  /** The file name within the policy folder. */
  readonly file: string;
  /** 1-based line of the rule in its file. */
  readonly line: number;
  readonly agents?: readonly ((text: string) => boolean)[];
  readonly servers?: readonly ((text: string) => boolean)[];
  readonly tools?: readonly ((text: string) => boolean)[];
  readonly resources?: readonly ((text: string) => boolean)[];
  readonly condition?: Condition;
}

/** Every rule of a policy folder, in the order they apply, and the version that names them. */
export interface PolicySet {
  /** Hex SHA-256 over the files (policy-version.ts). */
  readonly version: string;
  /** What a call gets when no rule decides. */
  readonly defaultOutcome: DefaultOutcome;
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
  readonly rules: readonly CompiledRule[];
}

/** The members of each approver group (config `approvers`), to check what rules ask of them. */
export type ApproverGroups = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Validates and compiles the files of a policy folder. Throws `ConfigError` listing every problem
 * as `<file>:<line>:<col>: <field.path>: <reason>`, so that a broken file is never half applied.
 * With `approverGroups`, a rule that asks for a group nobody is in, or for more approvers than its
 * groups have, is a problem too: its calls could never be approved. Runtime-neutral: the caller
 * reads the files.
 */
export function compilePolicySet(sources: readonly PolicySource[], defaultOutcome: DefaultOutcome, approverGroups?: ApproverGroups): PolicySet {
  const issues: ConfigIssue[] = [];
  const rules: CompiledRule[] = [];
  const firstDefinition = new Map<string, string>();
  for (const source of inRuleOrder(sources)) {
    let document: ReturnType<typeof readYamlDocument>;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(source.bytes);
    } catch {
      issues.push({ file: source.location, line: 1, column: 1, path: '', reason: 'not UTF-8 text' });
      continue;
    }
    try {
      document = readYamlDocument(text, source.location);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
      continue;
    }
    const parsed = policyFileSchema.safeParse(document.value, { error: defaultIssueMessages });
    if (!parsed.success) {
      const problems = describeSchemaIssues(parsed.error.issues, document.value, policyFileSchema);
      issues.push(...problems.map((problem) => document.issueAt(problem.path, problem.reason)));
      continue;
    }
    parsed.data.rules.forEach((rule, index) => {
      const where = document.issueAt(['rules', index], '');
      const earlier = firstDefinition.get(rule.id);
      if (earlier !== undefined) {
        issues.push(document.issueAt(['rules', index, 'id'], `rule id "${rule.id}" is already used at ${earlier}; ids must be unique across all policy files`));
        return;
      }
      firstDefinition.set(rule.id, `${source.location}:${where.line}`);
      if (rule.approval !== undefined && approverGroups !== undefined) {
        for (const problem of approvalProblems(rule.approval, approverGroups)) issues.push(document.issueAt(['rules', index, 'approval', ...problem.path], problem.reason));
      }
      rules.push(compileRule(rule, source.name, where.line));
    });
  }
  if (issues.length > 0) throw ConfigError.fromIssues(issues);
  return {
    version: policyVersion(sources),
    defaultOutcome,
    files: inRuleOrder(sources).map((source) => ({ name: source.name, sha256: sha256Hex(source.bytes) })),
    rules,
  };
}

function approvalProblems(approval: ApprovalRequirement, groups: ApproverGroups): { path: PropertyKey[]; reason: string }[] {
  const problems: { path: PropertyKey[]; reason: string }[] = [];
  const members = new Set<string>();
  approval.approvers.forEach((group, position) => {
    const people = groups.get(group);
    if (people === undefined) problems.push({ path: ['approvers', position], reason: `no approver is in group "${group}" (config approvers: ${[...groups.keys()].join(', ') || 'none'})` });
    for (const person of people ?? []) members.add(person);
  });
  if (problems.length === 0 && members.size < approval.count) {
    problems.push({ path: ['count'], reason: `asks for ${approval.count} different approvers, but ${approval.approvers.join(', ')} ha${approval.approvers.length === 1 ? 's' : 've'} only ${members.size}` });
  }
  return problems;
}

function compileRule(rule: PolicyRule, file: string, line: number): CompiledRule {
  const globs = (patterns: readonly string[] | undefined) => patterns?.map(globMatcher);
  const condition = rule.when === undefined ? undefined : compileCondition(rule.when);
  // The schema compiled the condition already; a string here would be a bug, not a user's mistake.
  if (typeof condition === 'string') throw new TypeError(`rule ${rule.id}: ${condition}`);
  return {
    rule,
    file,
    line,
    ...(rule.agents === undefined ? {} : { agents: globs(rule.agents) }),
    ...(rule.servers === undefined ? {} : { servers: globs(rule.servers) }),
    ...(rule.tools === undefined ? {} : { tools: globs(rule.tools) }),
    ...(rule.resources === undefined ? {} : { resources: globs(rule.resources) }),
    ...(condition === undefined ? {} : { condition }),
  };
}
