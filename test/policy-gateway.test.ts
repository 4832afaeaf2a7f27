// Policies at a running gateway (issue 6, points 1 and 2): each kind of rule decides real calls of
// real agents to real upstreams (server-everything, server-filesystem); a refused call never
// reaches its upstream and the agent's model reads why; every decision is an entry a reviewer
// finds in the libSQL file, in the same commit as the call it decides.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { readPolicyFolder } from '../src/cli/policy-folder.js';
import type { Entry } from '../src/ledger/entry.js';
import { policyVersion } from '../src/policy/policy-version.js';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ClientRevision, ConnectedClient } from './support/clients.js';
import { keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { filesystemStdio, startEverythingStdio } from './support/upstream-servers.js';

const workFolder = mkdtempSync(join(tmpdir(), 'agenttrail-work-'));
const otherFolder = mkdtempSync(join(tmpdir(), 'agenttrail-other-'));
const policyFolder = mkdtempSync(join(tmpdir(), 'agenttrail-policies-'));

const POLICY_FILES: Record<string, string> = {
  '00-limits.yaml': `
rules:
  - id: sums-are-rationed
    tools: [get-sum]
    action: limit
    limit: { calls: 2, per: 1h, by: [agent] }
    reason: Sums are rationed
`,
  '10-denials.yaml': `
rules:
  - id: no-passwords-in-echo
    tools: [echo]
    when: args.message.contains("password")
    action: deny
    reason: Do not send passwords through echo.
  - id: writes-stay-in-work
    servers: [files]
    tools: [write_file, edit_file, create_directory]
    when: '!isWithin(args.path, "${workFolder}")'
    action: deny
    reason: Write only below ${workFolder}.
  - id: ops-agents-may-toggle
    agents: [ops-*]
    tools: [toggle-simulated-logging]
    action: allow
  - id: no-static-documents
    resources: ['demo://resource/static/*']
    action: deny
    reason: Static documents are off limits.
`,
  '20-annotations.yaml': `
rules:
  - id: reads-run
    when: annotations.readOnlyHint
    action: allow
  - id: destructive-waits
    when: annotations.destructiveHint
    action: require_approval
    approval: { approvers: [security], count: 2, timeout: 10m }
`,
};
for (const [name, text] of Object.entries(POLICY_FILES)) writeFileSync(join(policyFolder, name), text);

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

function textOf(result: unknown): string {
  return (result as ToolResult).content.map((part) => part.text ?? '').join('\n');
}

/** The entries of one call: its request, its decision and its result, as a reviewer reads them. */
async function entriesOfCall(gateway: RunningGateway, name: string, nth = 0): Promise<{ call: Entry; decision: Entry; result: Entry; all: Entry[] }> {
  const entries = await waitForEntries(
    () => gateway.entries(),
    (all) => all.filter((entry) => entry.kind === 'tool.result' && entry.name === name).length > nth,
  );
  const call = entries.filter((entry) => entry.kind === 'tool.call' && entry.name === name)[nth]!;
  const same = entries.filter((entry) => entry.call === call.call);
  return { call, decision: same.find((entry) => entry.kind === 'policy.decision')!, result: same.find((entry) => entry.kind === 'tool.result')!, all: same };
}

describe('a gateway with policies', () => {
  let gateway: RunningGateway;
  let version: string;
  const agents: ConnectedClient[] = [];

  const connect = async (revision: ClientRevision = '2025-11-25', token?: string) => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    gateway = await startGateway(
      { everything: startEverythingStdio(), files: filesystemStdio(workFolder, otherFolder) },
      { policies: { dir: policyFolder, default: 'deny' } },
    );
    version = policyVersion(await readPolicyFolder(policyFolder));
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  it('records the policy it loaded, with its version and files, before any call', async () => {
    const loaded = (await gateway.entries()).find((entry) => entry.kind === 'policy.loaded');
    expect(loaded).toMatchObject({ session: 'policies', agent: { transport: 'cli' } });
    expect(loaded?.payload).toMatchObject({
      version,
      dir: policyFolder,
      default: 'deny',
      rules: [
        { id: 'sums-are-rationed', file: '00-limits.yaml', action: 'limit' },
        { id: 'no-passwords-in-echo', file: '10-denials.yaml', action: 'deny' },
        { id: 'writes-stay-in-work', file: '10-denials.yaml', action: 'deny' },
        { id: 'ops-agents-may-toggle', file: '10-denials.yaml', action: 'allow' },
        { id: 'no-static-documents', file: '10-denials.yaml', action: 'deny' },
        { id: 'reads-run', file: '20-annotations.yaml', action: 'allow' },
        { id: 'destructive-waits', file: '20-annotations.yaml', action: 'require_approval' },
      ],
    });
    expect((loaded?.payload as { files: { name: string; text: string }[] }).files.map((file) => [file.name, file.text])).toEqual(Object.entries(POLICY_FILES));
  });

  test.each(REVISIONS)('a denied call never reaches the upstream, and the agent on %s reads why as a tool error', async (revision) => {
    const agent = await connect(revision);
    const outside = join(otherFolder, `denied-${revision}.txt`);
    const result = (await agent.client.callTool({ name: 'files__write_file', arguments: { path: outside, content: 'should not exist' } })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`AgentTrail policy refused this call: Write only below ${workFolder}.`);
    expect(existsSync(outside)).toBe(false);

    const nth = REVISIONS.indexOf(revision);
    const { call, decision, result: recorded, all } = await entriesOfCall(gateway, 'files__write_file', nth);
    expect(decision).toMatchObject({
      time: call.time,
      server: 'files',
      tool: 'write_file',
      argsHash: call.argsHash,
      payload: { outcome: 'deny', rule: 'writes-stay-in-work', file: '10-denials.yaml', policyVersion: version, reason: `Write only below ${workFolder}.` },
    });
    // The decision is written with the request, before anything goes upstream; the result says refused.
    expect(decision.index).toBe(call.index + 1);
    expect(recorded).toMatchObject({ outcome: 'refused', payload: { result: { isError: true } } });
    expect(all.map((entry) => entry.kind)).toEqual(['tool.call', 'policy.decision', 'tool.result']);
  });

  it('runs an allowed call and records the rule that allowed it, with the annotations it saw', async () => {
    const agent = await connect();
    const result = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } });
    expect(textOf(result)).toBe('Echo: hello');
    const { decision, result: recorded } = await entriesOfCall(gateway, 'everything__echo');
    expect(decision.payload).toEqual({
      outcome: 'allow',
      rule: 'reads-run',
      file: '20-annotations.yaml',
      policyVersion: version,
      reason: 'allowed by rule "reads-run"',
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    });
    expect(recorded.outcome).toBe('ok');
  });

  it('decides with CEL on the arguments: the same tool is refused for one message and not another', async () => {
    const agent = await connect();
    const refused = (await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'my password is hunter2' } })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe('AgentTrail policy refused this call: Do not send passwords through echo.');
    expect(textOf(await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'no secret here' } }))).toBe('Echo: no secret here');
  });

  it('holds a destructive tool for approval, and refuses it where no approvers are configured, writing nothing', async () => {
    const agent = await connect();
    const inside = join(workFolder, 'held.txt');
    const result = (await agent.client.callTool({ name: 'files__write_file', arguments: { path: inside, content: 'held' } })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      'AgentTrail policy holds this call for human approval (rule "destructive-waits" needs the approval of 2 different approvers from security), ' +
        'but this gateway has no approvers, so the call was not made.',
    );
    expect(existsSync(inside)).toBe(false);
    const entries = await waitForEntries(() => gateway.entries(), (all) => all.some((entry) => entry.kind === 'policy.decision' && (entry.payload as { outcome?: string }).outcome === 'require_approval'));
    const decision = entries.find((entry) => entry.kind === 'policy.decision' && (entry.payload as { outcome?: string }).outcome === 'require_approval')!;
    expect(decision.payload).toMatchObject({
      rule: 'destructive-waits',
      approval: { approvers: ['security'], count: 2, timeout: '10m' },
      annotations: { readOnlyHint: false, destructiveHint: true },
    });
  });

  it('rations calls: within the budget they run, beyond it the agent reads when to try again', async () => {
    const agent = await connect();
    const sum = () => agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } }) as Promise<ToolResult>;
    expect(textOf(await sum())).toBe('The sum of 1 and 2 is 3.');
    expect(textOf(await sum())).toBe('The sum of 1 and 2 is 3.');
    const third = await sum();
    expect(third.isError).toBe(true);
    expect(textOf(third)).toMatch(/^AgentTrail policy refused this call: rate limit reached \(Sums are rationed: rule "sums-are-rationed" allows 2 calls per hour for each agent; try again in (59|60) minutes\)\.$/);
    const { decision } = await entriesOfCall(gateway, 'everything__get-sum', 2);
    expect(decision.payload).toMatchObject({ outcome: 'limit', rule: 'sums-are-rationed', budgets: [{ rule: 'sums-are-rationed', used: 2, calls: 2, per: '1h' }] });
    const { decision: second } = await entriesOfCall(gateway, 'everything__get-sum', 1);
    expect(second.payload).toMatchObject({ outcome: 'allow', rule: 'reads-run', budgets: [{ rule: 'sums-are-rationed', used: 2, calls: 2, per: '1h' }] });
  });

  it('matches on the authenticated agent: an ops agent may do what an anonymous one may not', async () => {
    const added = await runAgenttrail(['agents', 'add', 'ops-bot', '--db', gateway.db, '--key', keyFileBeside(gateway.db), '--json']);
    expect(added.code, added.stderr).toBe(0);
    const ops = await connect('2025-11-25', (JSON.parse(added.stdout) as { token: string }).token);
    const anonymous = await connect();
    const toggle = { name: 'everything__toggle-simulated-logging', arguments: {} };
    expect(((await ops.client.callTool(toggle)) as ToolResult).isError).toBeFalsy();
    const refused = (await anonymous.client.callTool(toggle)) as ToolResult;
    expect(textOf(refused)).toBe('AgentTrail policy refused this call: no policy rule matched this call; the default is deny');
    const decisions = (await gateway.entries()).filter((entry) => entry.kind === 'policy.decision' && entry.tool === 'toggle-simulated-logging');
    expect(decisions.map((entry) => [entry.agent.id, (entry.payload as { outcome: string }).outcome])).toEqual([
      ['ops-bot', 'allow'],
      [undefined, 'deny'],
    ]);
    expect(decisions[1]?.payload).toMatchObject({ default: true });
  });

  it('decides resource reads by URI: a denied read is an error naming the reason', async () => {
    const agent = await connect();
    await expect(agent.client.readResource({ uri: 'demo://resource/static/document/features.md' })).rejects.toThrow('Static documents are off limits.');
    const allowed = await agent.client.readResource({ uri: 'demo://resource/dynamic/text/1' });
    expect(allowed.contents[0]?.uri).toBe('demo://resource/dynamic/text/1');
    const entries = await waitForEntries(() => gateway.entries(), (all) => all.filter((entry) => entry.kind === 'mcp.result' && entry.method === 'resources/read').length >= 2);
    const reads = entries.filter((entry) => entry.method === 'resources/read' && (entry.kind === 'policy.decision' || entry.kind === 'mcp.result'));
    expect(reads.map((entry) => [entry.kind, entry.tool, entry.kind === 'mcp.result' ? entry.outcome : (entry.payload as { outcome: string }).outcome])).toEqual([
      ['policy.decision', 'demo://resource/static/document/features.md', 'deny'],
      ['mcp.result', 'demo://resource/static/document/features.md', 'refused'],
      ['policy.decision', 'demo://resource/dynamic/text/1', 'allow'],
      ['mcp.result', 'demo://resource/dynamic/text/1', 'ok'],
    ]);
  });

  it('leaves a log that verifies', async () => {
    const verified = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
  });
});
