// `agenttrail policy check` and `agenttrail policy test` (issue 6, point 3): a security team checks
// what its files say before they go live, and replays what agents really did against a proposed
// policy to see which calls it would decide otherwise.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyFolder } from '../src/cli/policy-folder.js';
import { policyVersion } from '../src/policy/policy-version.js';
import { connectClient } from './support/clients.js';
import { keyFileBeside, readEntries, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function policyFolderWith(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-policy-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
  return folder;
}

describe('agenttrail policy check', () => {
  it('says what each rule of the example policies does, in order, and exits 0', async () => {
    const checked = await runAgenttrail(['policy', 'check', 'policies'], { cwd: repoRoot });
    expect(checked.code, checked.stderr).toBe(0);
    const version = policyVersion(await readPolicyFolder(join(repoRoot, 'policies')));
    expect(checked.stdout).toBe(
      [
        '00-hourly-budget.yaml',
        '  hourly-budget (line 6): Limit every tool call and resource read by any agent to 500 per hour for each agent; refuse the calls beyond, and let the following rules decide the others.',
        '10-writes-stay-in-work-folder.yaml',
        '  writes-stay-in-work-folder (line 6): Deny calls of tools write_file, edit_file, create_directory by any agent when !isWithin(args.path, "/tmp/work"). The agent is told: "Files may be written only below /tmp/work; choose a path there."',
        '  moves-stay-in-work-folder (line 13): Deny calls of tool move_file by any agent when !isWithin(args.source, "/tmp/work") || !isWithin(args.destination, "/tmp/work"). The agent is told: "Files may be moved only within /tmp/work."',
        '20-read-only-tools.yaml',
        '  read-only-tools-run-freely (line 7): Allow every tool call and resource read by any agent when annotations.readOnlyHint.',
        '30-destructive-tools-need-approval.yaml',
        '  destructive-tools-need-approval (line 6): Hold every tool call and resource read by any agent when annotations.destructiveHint until an approver from security approves; refuse after 15 minutes without a decision.',
        '  non-destructive-changes-run (line 15): Allow every tool call and resource read by any agent.',
        'The default (deny) is never reached: rule non-destructive-changes-run decides every call.',
        `valid: 6 rules in 4 files, policy version ${version}`,
        '',
      ].join('\n'),
    );
  });

  it('warns about rules that can never be reached, and prints --json', async () => {
    const folder = policyFolderWith({ 'a.yaml': 'rules:\n  - id: everything\n    action: allow\n  - id: never\n    tools: [echo]\n    action: deny\n    reason: too late\n' });
    const checked = await runAgenttrail(['policy', 'check', folder]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('  never (line 4): Deny calls of tool echo by any agent. The agent is told: "too late"\n    warning: never reached, rule everything above decides every call\n');
    const json = await runAgenttrail(['policy', 'check', folder, '--json', '--default', 'allow']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      default: 'allow',
      rules: [{ id: 'everything', file: 'a.yaml', line: 2 }, { id: 'never', unreachableAfter: 'everything' }],
    });
  });

  it('lists every problem as FILE:LINE:COL: FIELD: REASON and exits 2', async () => {
    const folder = policyFolderWith({
      '10-ok.yaml': 'rules:\n  - id: fine\n    action: allow\n',
      '20-broken.yaml': 'rules:\n  - id: budget\n    action: limit\n    limit: { calls: 10, per: 1 hour }\n  - id: fine\n    action: allow\n',
    });
    const checked = await runAgenttrail(['policy', 'check', folder]);
    expect(checked.code).toBe(2);
    expect(checked.stdout).toBe('');
    expect(checked.stderr).toBe(
      `${folder}/20-broken.yaml:4:25: rules[0].limit.per: expected a number and a unit: s, m, h or d (e.g. 30s, 15m, 1h, 7d), got "1 hour"\n` +
        `agenttrail: the policy in ${folder} is not valid (1 problem)\n`,
    );
  });

  it('refuses a folder that does not exist, and an unknown action', async () => {
    const missing = await runAgenttrail(['policy', 'check', join(tmpdir(), 'no-such-policies')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('policy folder not found');
    const unknown = await runAgenttrail(['policy', 'apply']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown policy action 'apply' (actions: check, test)");
  });
});

describe('agenttrail policy test', () => {
  let unpoliced: RunningGateway;
  let policed: RunningGateway;
  let inForce: string;

  /** Makes the calls, and waits until the shared log holds `results` tool results in all. */
  const callsOf = async (gateway: RunningGateway, calls: [string, Record<string, unknown>][], results: number) => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
    for (const [name, args] of calls) await agent.client.callTool({ name, arguments: args });
    await agent.close();
    await waitForEntries(() => readEntries(unpoliced.db), (entries) => entries.filter((entry) => entry.kind === 'tool.result').length >= results);
  };

  beforeAll(async () => {
    // First the agents worked without a policy, then under one that refuses passwords in echo.
    unpoliced = await startGateway({ everything: startEverythingStdio() });
    await callsOf(unpoliced, [
      ['everything__echo', { message: 'hello' }],
      ['everything__echo', { message: 'password 1' }],
      ['everything__get-sum', { a: 1, b: 1 }],
      ['everything__get-sum', { a: 1, b: 2 }],
      ['everything__get-sum', { a: 1, b: 3 }],
    ], 5);
    await unpoliced.stop();
    const folder = policyFolderWith({ 'a.yaml': 'rules:\n  - id: old-no-passwords\n    when: has(args.message) && args.message.contains("password")\n    action: deny\n    reason: no\n' });
    inForce = policyVersion(await readPolicyFolder(folder));
    policed = await startGateway(
      { everything: startEverythingStdio() },
      { log: { db: unpoliced.db, key: keyFileBeside(unpoliced.db) }, policies: { dir: folder, default: 'allow' } },
    );
    await callsOf(policed, [
      ['everything__echo', { message: 'password 2' }],
      ['everything__echo', { message: 'hi' }],
      ['everything__get-sum', { a: 2, b: 2 }],
    ], 8);
    await policed.stop();
  });

  afterAll(async () => {
    await unpoliced?.stop();
    await policed?.stop();
  });

  const proposed = policyFolderWith({
    '10-rules.yaml': `rules:
  - id: sums-rationed
    tools: [get-sum]
    action: limit
    limit: { calls: 2, per: 1h }
  - id: no-passwords
    tools: [echo]
    when: args.message.contains("password")
    action: deny
    reason: no passwords
  - id: reads-run
    when: annotations.readOnlyHint
    action: allow
`,
  });

  it('lists the calls a proposed policy would decide otherwise, and exits 1', async () => {
    const tested = await runAgenttrail(['policy', 'test', proposed, '--db', unpoliced.db]);
    expect(tested.code, tested.stderr).toBe(1);
    const lines = tested.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Replayed 8 recorded calls of log agenttrail.local/gateway against policy ${policyVersion(await readPolicyFolder(proposed)).slice(0, 12)}:`);
    expect(lines[1]).toMatch(/^INDEX +TIME +AGENT +CALL +RECORDED +PROPOSED$/);
    const rows = lines.slice(2, -1).map((line) => line.split(/ {2,}/).filter((cell) => cell !== ''));
    expect(rows.map((row) => row.slice(2))).toEqual([
      ['(anonymous)', 'everything/echo', 'allow (no policy)', 'deny by no-passwords'],
      ['(anonymous)', 'everything/get-sum', 'allow (no policy)', 'limit by sums-rationed'],
      ['(anonymous)', 'everything/get-sum', 'allow by default', 'limit by sums-rationed'],
    ]);
    expect(lines.at(-1)).toBe('3 of 8 calls would be decided differently.');
  });

  it('says the same in one JSON document, with the recorded policy version and the proposed reason', async () => {
    const tested = await runAgenttrail(['policy', 'test', proposed, '--db', unpoliced.db, '--json']);
    expect(tested.code).toBe(1);
    const report = JSON.parse(tested.stdout) as { calls: number; differences: Record<string, unknown>[] };
    expect(report.calls).toBe(8);
    expect(report.differences[2]).toMatchObject({
      server: 'everything',
      kind: 'tool',
      target: 'get-sum',
      recorded: { outcome: 'allow', policyVersion: inForce },
      proposed: { outcome: 'limit', rule: 'sums-rationed' },
    });
    expect(String((report.differences[2]!.proposed as { reason: string }).reason)).toMatch(/^rule "sums-rationed" allows 2 calls per hour for each agent; try again in \d+ minutes$/);
  });

  it('exits 0 when every call would be decided as it was', async () => {
    const same = policyFolderWith({ 'a.yaml': 'rules:\n  - id: only-that-password\n    tools: [echo]\n    when: args.message == "password 2"\n    action: deny\n    reason: no\n' });
    const tested = await runAgenttrail(['policy', 'test', same, '--db', unpoliced.db, '--default', 'allow']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout.trimEnd().split('\n').at(-1)).toBe('Every call would be decided as it was.');
  });
});
