// Policy files (issue 6, point 1): what a security team writes, what the gateway makes of it, and
// what it tells them when a file is wrong. Decisions are taken by the compiled rules themselves,
// on a clock the test holds, so that rate limits can be checked to the millisecond.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPolicyFolder } from '../src/cli/policy-folder.js';
import { ConfigError } from '../src/config/config-error.js';
import { parseConfig } from '../src/config/parse-config.js';
import type { AgentIdentity } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { CallBudgets } from '../src/policy/call-budgets.js';
import { isWithinFolder } from '../src/policy/folder-containment.js';
import { decidePolicy } from '../src/policy/policy-decision.js';
import type { PolicyRequest } from '../src/policy/policy-decision.js';
import { policyJsonSchemaText } from '../src/policy/policy-json-schema.js';
import { compilePolicySet } from '../src/policy/policy-set.js';
import type { DefaultOutcome, PolicySet } from '../src/policy/policy-set.js';
import { explainPolicy } from '../src/policy/rule-explanation.js';
import { RESOURCE_READ_ANNOTATIONS, toolAnnotations } from '../src/policy/tool-annotations.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const encoder = new TextEncoder();

function policyOf(files: Record<string, string>, defaultOutcome: DefaultOutcome = 'deny'): PolicySet {
  return compilePolicySet(
    Object.entries(files).map(([name, text]) => ({ name, location: `policies/${name}`, bytes: encoder.encode(text) })),
    defaultOutcome,
  );
}

function problemsOf(files: Record<string, string>): string[] {
  try {
    policyOf(files);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => `${issue.file}:${issue.line}:${issue.column}: ${issue.path}: ${issue.reason}`);
  }
  throw new Error('expected the policy to be rejected');
}

const anonymous: AgentIdentity = { transport: 'http' };

function toolCall(tool: string, args: Record<string, unknown> = {}, more: Partial<PolicyRequest> = {}): PolicyRequest {
  return { agent: anonymous, server: 'files', kind: 'tool', target: tool, args, annotations: toolAnnotations(undefined), ...more };
}

describe('a policy file with mistakes', () => {
  it('is rejected with file, line and reason for each mistake, and a hint for a misspelt key', () => {
    const problems = problemsOf({
      '10-rules.yaml': `rules:
  - id: no-secrets
    tools: [echo]
    when: args.message.contains("secret"
    action: deny
    reason: no secrets
  - id: budget
    acton: limit
  - id: wait
    action: require_approval
    approval: { approvers: [security], count: 0, timeout: 2w }
`,
    });
    expect(problems).toEqual([
      'policies/10-rules.yaml:4:5: rules[0].when: invalid CEL: Expected RPAREN, got EOF (at character 31)',
      'policies/10-rules.yaml:7:5: rules[1].action: expected allow, deny, require_approval or limit',
      'policies/10-rules.yaml:8:5: rules[1].acton: unknown key (did you mean "action"?)',
      'policies/10-rules.yaml:11:40: rules[2].approval.count: must be at least 1, got 0',
      'policies/10-rules.yaml:11:50: rules[2].approval.timeout: expected a number and a unit: s, m, h or d (e.g. 30s, 15m, 1h, 7d), got "2w"',
    ]);
  });

  it('says what an action lacks, and which keys belong to another action', () => {
    expect(
      problemsOf({
        'a.yaml': ['rules:', '  - id: refuse', '    action: deny', '  - id: count', '    action: allow', '    limit: { calls: 5, per: 1h }'].join('\n'),
      }),
    ).toEqual([
      'policies/a.yaml:3:5: rules[0].action: action deny needs a reason: (shown to the agent)',
      'policies/a.yaml:6:5: rules[1].limit: applies only to action limit',
    ]);
  });

  it('rejects a condition that names a variable the gateway does not have, or gives no true/false', () => {
    expect(
      problemsOf({
        'a.yaml': ['rules:', '  - id: typo', '    when: arg.path == "/"', '    action: allow', '  - id: number', '    when: size(args)', '    action: allow'].join('\n'),
      }),
    ).toEqual([
      'policies/a.yaml:3:5: rules[0].when: invalid CEL: Unknown variable: arg (at character 1)',
      'policies/a.yaml:6:5: rules[1].when: the condition must be true or false, but it gives a value of type int',
    ]);
  });

  it('rejects a rule id used twice, naming where it was first used, across files', () => {
    expect(
      problemsOf({
        '20-b.yaml': 'rules:\n  - id: same\n    action: allow\n',
        '10-a.yaml': '# first\nrules:\n  - id: same\n    action: allow\n',
      }),
    ).toEqual(['policies/20-b.yaml:2:5: rules[0].id: rule id "same" is already used at policies/10-a.yaml:3; ids must be unique across all policy files']);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problemsOf({ 'a.yaml': 'rules:\n  - id: x\n    action: [allow\n' })[0]).toMatch(/^policies\/a\.yaml:4:1: : invalid YAML: /);
  });
});

describe('rules that hold calls for approval', () => {
  const held = `rules:
  - id: two-person
    action: require_approval
    approval: { approvers: [security, audit], count: 3 }
`;
  it('must ask for groups that approvers of the config are in, and no more approvers than they have', () => {
    const groups = new Map([['security', new Set(['alice', 'bob'])]]);
    const compile = (approverGroups: Map<string, Set<string>>) => () =>
      compilePolicySet([{ name: 'a.yaml', location: 'policies/a.yaml', bytes: encoder.encode(held) }], 'deny', approverGroups);
    expect(compile(groups)).toThrow('policies/a.yaml:4:39: rules[0].approval.approvers[1]: no approver is in group "audit" (config approvers: security)');
    groups.set('audit', new Set(['bob']));
    expect(compile(groups)).toThrow('policies/a.yaml:4:47: rules[0].approval.count: asks for 3 different approvers, but security, audit have only 2');
    groups.set('audit', new Set(['carol']));
    expect(compile(groups)().rules).toHaveLength(1);
  });
});

describe('the policy version', () => {
  it('is what sha256sum of the files, piped to sha256sum, prints', async () => {
    const sources = await readPolicyFolder(join(repoRoot, 'policies'));
    const policy = compilePolicySet(sources, 'deny');
    const listing = execFileSync('sha256sum', sources.map((source) => source.name).sort(), { cwd: join(repoRoot, 'policies'), env: { ...process.env, LC_ALL: 'C' } });
    const expected = execFileSync('sha256sum', { input: listing }).toString().split(' ')[0];
    expect(policy.version).toBe(expected);
  });

  it('changes with any byte, and with a file name', () => {
    const base = policyOf({ 'a.yaml': 'rules: []\n' }).version;
    expect(policyOf({ 'a.yaml': 'rules: [] \n' }).version).not.toBe(base);
    expect(policyOf({ 'b.yaml': 'rules: []\n' }).version).not.toBe(base);
    expect(policyOf({ 'a.yaml': 'rules: []\n' }).version).toBe(base);
  });
});

describe('decisions', () => {
  const rules = policyOf({
    '10-deny.yaml': `rules:
  - id: writes-stay-in-work
    tools: [write_file]
    when: '!isWithin(args.path, "/tmp/work")'
    action: deny
    reason: write below /tmp/work
`,
    '20-allow.yaml': `rules:
  - id: ops-agents-do-anything
    agents: [ops-*]
    action: allow
  - id: read-only-runs
    when: annotations.readOnlyHint
    action: allow
  - id: destructive-is-held
    when: annotations.destructiveHint
    action: require_approval
    approval: { approvers: [security, sre], count: 2 }
`,
  });

  it('are taken by the first rule that matches, in file-name order', () => {
    const budgets = new CallBudgets();
    const outside = decidePolicy(rules, toolCall('write_file', { path: '/etc/passwd' }, { agent: { transport: 'http', id: 'ops-bot' } }), budgets, 0);
    expect(outside).toMatchObject({ outcome: 'deny', rule: { id: 'writes-stay-in-work', file: '10-deny.yaml' }, reason: 'write below /tmp/work' });
    const ops = decidePolicy(rules, toolCall('write_file', { path: '/tmp/work/a' }, { agent: { transport: 'http', id: 'ops-bot' } }), budgets, 0);
    expect(ops).toMatchObject({ outcome: 'allow', rule: { id: 'ops-agents-do-anything' } });
  });

  it('see tool annotations, with the MCP defaults for a tool that says nothing', () => {
    const budgets = new CallBudgets();
    const read = decidePolicy(rules, toolCall('read_file', {}, { annotations: toolAnnotations({ readOnlyHint: true }) }), budgets, 0);
    expect(read).toMatchObject({ outcome: 'allow', rule: { id: 'read-only-runs' } });
    const unannotated = decidePolicy(rules, toolCall('write_file', { path: '/tmp/work/a' }), budgets, 0);
    expect(unannotated).toMatchObject({
      outcome: 'require_approval',
      rule: { id: 'destructive-is-held' },
      approval: { approvers: ['security', 'sre'], count: 2, timeout: '15m' },
      reason: 'rule "destructive-is-held" needs the approval of 2 different approvers from security, sre',
    });
    const harmless = toolAnnotations({ readOnlyHint: false, destructiveHint: false });
    expect(decidePolicy(rules, toolCall('create_directory', {}, { annotations: harmless }), budgets, 0)).toEqual({
      outcome: 'deny',
      reason: 'no policy rule matched this call; the default is deny',
      budgets: [],
    });
  });

  it('treat a resource read as read-only, and leave it out of rules that name only tools', () => {
    const read = decidePolicy(rules, { agent: anonymous, server: 'files', kind: 'resource', target: 'file:///etc/passwd', args: {}, annotations: RESOURCE_READ_ANNOTATIONS }, new CallBudgets(), 0);
    expect(read).toMatchObject({ outcome: 'allow', rule: { id: 'read-only-runs' } });
  });

  it('refuse a call whose condition cannot be evaluated (fail closed)', () => {
    const decision = decidePolicy(rules, toolCall('write_file', { content: 'no path' }), new CallBudgets(), 0);
    expect(decision).toMatchObject({ outcome: 'deny', rule: { id: 'writes-stay-in-work' } });
    expect(decision.reason).toBe('rule "writes-stay-in-work" refuses the call: its condition could not be evaluated (No such key: path (at character 16))');
  });

  it('match anonymous agents only with rules that name no agents', () => {
    const decision = decidePolicy(rules, toolCall('write_file', { path: '/tmp/work/a' }, { agent: { transport: 'stdio' } }), new CallBudgets(), 0);
    expect(decision.rule?.id).toBe('destructive-is-held');
  });
});

describe('rate limits', () => {
  const limited = policyOf({
    'a.yaml': `rules:
  - id: three-per-minute
    action: limit
    limit: { calls: 3, per: 1m, by: [agent] }
  - id: no-deletes
    tools: [delete]
    action: deny
    reason: never
  - id: rest
    action: allow
`,
  });
  const alice: AgentIdentity = { transport: 'http', id: 'alice' };
  const bob: AgentIdentity = { transport: 'http', id: 'bob' };

  it('allow N calls in any window, refuse the next until the oldest leaves the window, per agent', () => {
    const budgets = new CallBudgets();
    const at = (ms: number, agent = alice) => decidePolicy(limited, toolCall('echo', {}, { agent }), budgets, ms);
    expect([at(0), at(10_000), at(20_000)].map((decision) => decision.outcome)).toEqual(['allow', 'allow', 'allow']);
    expect(at(20_000).budgets).toEqual([{ rule: 'three-per-minute', used: 3, calls: 3, per: '1m' }]);
    const refused = at(59_999);
    expect(refused).toMatchObject({ outcome: 'limit', rule: { id: 'three-per-minute' } });
    expect(refused.reason).toBe('rule "three-per-minute" allows 3 calls per minute for each agent; try again in 1 second');
    expect(at(59_999, bob).outcome).toBe('allow');
    // The call at 0 leaves the window at 60 000: one more fits, then the call at 10 000 must leave.
    expect(at(60_000).outcome).toBe('allow');
    expect(at(60_001).outcome).toBe('limit');
    expect(at(70_000).outcome).toBe('allow');
  });

  it('do not charge calls that a later rule denies', () => {
    const budgets = new CallBudgets();
    for (let i = 0; i < 5; i++) expect(decidePolicy(limited, toolCall('delete', {}, { agent: alice }), budgets, i).outcome).toBe('deny');
    expect(decidePolicy(limited, toolCall('echo', {}, { agent: alice }), budgets, 10).budgets).toEqual([{ rule: 'three-per-minute', used: 1, calls: 3, per: '1m' }]);
  });
});

describe('isWithin', () => {
  it('resolves . and .. before comparing, and never places a relative path inside', () => {
    expect(isWithinFolder('/tmp/work/a.txt', '/tmp/work')).toBe(true);
    expect(isWithinFolder('/tmp/work', '/tmp/work/')).toBe(true);
    expect(isWithinFolder('/tmp/work/./sub/../b', '/tmp/work')).toBe(true);
    expect(isWithinFolder('/tmp/work/../etc/passwd', '/tmp/work')).toBe(false);
    expect(isWithinFolder('/tmp/workshop/a', '/tmp/work')).toBe(false);
    expect(isWithinFolder('work/a', '/tmp/work')).toBe(false);
    expect(isWithinFolder('/etc', '/')).toBe(true);
  });
});

describe('the example policies in policies/', () => {
  it('validate, and read as the README says: budget, writes confined, reads free, destructive held', async () => {
    const policy = compilePolicySet(await readPolicyFolder(join(repoRoot, 'policies')), 'deny');
    const { rules } = explainPolicy(policy);
    expect(rules.map((rule) => `${rule.file}: ${rule.text}`)).toEqual([
      '00-hourly-budget.yaml: Limit every tool call and resource read by any agent to 500 per hour for each agent; refuse the calls beyond, and let the following rules decide the others.',
      '10-writes-stay-in-work-folder.yaml: Deny calls of tools write_file, edit_file, create_directory by any agent when !isWithin(args.path, "/tmp/work"). The agent is told: "Files may be written only below /tmp/work; choose a path there."',
      '10-writes-stay-in-work-folder.yaml: Deny calls of tool move_file by any agent when !isWithin(args.source, "/tmp/work") || !isWithin(args.destination, "/tmp/work"). The agent is told: "Files may be moved only within /tmp/work."',
      '20-read-only-tools.yaml: Allow every tool call and resource read by any agent when annotations.readOnlyHint.',
      '30-destructive-tools-need-approval.yaml: Hold every tool call and resource read by any agent when annotations.destructiveHint until an approver from security approves; refuse after 15 minutes without a decision.',
      '30-destructive-tools-need-approval.yaml: Allow every tool call and resource read by any agent.',
    ]);
  });
});

describe('editor support', () => {
  it('has a JSON Schema for policy files that is the one generated from the zod schema', async () => {
    const committed = await readFile(join(repoRoot, 'examples', 'policy.schema.json'), 'utf8');
    // If this fails: tsc -p . && node scripts/generate-config-schema.mjs
    expect(committed).toBe(policyJsonSchemaText());
  });
});

describe('the config', () => {
  it('registers approvers by verifier key, one key per person', () => {
    const key = parseSignerKey(generateSignerKey('alice')).verifierKey;
    const servers = 'servers:\n  s: { command: node }\n';
    const config = parseConfig(`${servers}approvers:\n  alice: { key: "${key}", groups: [security] }\n`, 'agenttrail.yaml', {});
    expect(config.approvers).toEqual({ alice: { key, groups: ['security'], identities: [] } });
    expect(() => parseConfig(`${servers}approvers:\n  alice: { key: "${key}", groups: [security] }\n  al: { key: "${key}", groups: [ops] }\n`, 'agenttrail.yaml', {})).toThrow(
      'agenttrail.yaml:5:9: approvers.al.key: is also the key of approver "alice"; each person has a key of their own',
    );
    expect(() => parseConfig(`${servers}approvers:\n  bob: { key: "bob+00", groups: [security] }\n`, 'agenttrail.yaml', {})).toThrow(/^agenttrail\.yaml:4:10: approvers\.bob\.key: expected a verifier key \(agenttrail keys show --key THEIR_KEY\): /);
  });

  it('has no policies unless it says so, and a policies section without a default denies', () => {
    const servers = 'servers:\n  s: { command: node }\n';
    expect(parseConfig(servers, 'agenttrail.yaml', {}).policies).toBeUndefined();
    expect(parseConfig(`${servers}policies: {}\n`, 'agenttrail.yaml', {}).policies).toEqual({ dir: 'policies', default: 'deny' });
    expect(() => parseConfig(`${servers}policies: { default: maybe }\n`, 'agenttrail.yaml', {})).toThrow(
      'agenttrail.yaml:3:13: policies.default: expected "allow" or "deny", got "maybe"',
    );
  });
});
