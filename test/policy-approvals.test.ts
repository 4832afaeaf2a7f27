// Calls held for human approval (issue 6, points 4 and 5, the CLI path): the agent's call waits
// with progress while people with their own Ed25519 keys approve or deny it through
// `agenttrail approvals`; each decision is signed over the request it decides and `verify` checks
// it. An approval is bound to the call's arguments, single-use, expires, needs distinct approvers,
// and never comes from the person who made the call.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditDatabase } from '../src/cli/audit-database.js';
import { readGatewayKey } from '../src/cli/gateway-key.js';
import { canonicalBytes, sha256Hex } from '../src/ledger/canonical-json.js';
import type { Entry } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { approverKey } from './support/approver-keys.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { DEFAULT_ORIGIN, keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { filesystemStdio, startEverythingStdio } from './support/upstream-servers.js';

const workFolder = mkdtempSync(join(tmpdir(), 'agenttrail-approved-'));
const policyFolder = mkdtempSync(join(tmpdir(), 'agenttrail-approval-policy-'));

writeFileSync(
  join(policyFolder, 'approvals.yaml'),
  `rules:
  - id: two-person-writes
    servers: [files]
    tools: [write_file]
    action: require_approval
    approval: { approvers: [security], count: 2, timeout: 2m }
  - id: sums-need-a-nod
    tools: [get-sum]
    action: require_approval
    approval: { approvers: [security, ops], timeout: 1m }
  - id: quick-questions
    tools: [echo]
    action: require_approval
    approval: { approvers: [ops], timeout: 2s }
  - id: the-rest
    action: allow
`,
);

const alice = approverKey('alice');
const bob = approverKey('bob');
const carol = approverKey('carol');

interface ListedRequest {
  id: string;
  tool: string;
  arguments: Record<string, unknown>;
  approvedBy: string[];
  agent: { id?: string };
}

describe('approvals through the CLI', () => {
  let gateway: RunningGateway;
  let config: string;
  const agents: ConnectedClient[] = [];

  const connect = async (token?: string) => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    agents.push(agent);
    return agent;
  };
  const approvals = (...args: string[]) => runAgenttrail(['approvals', ...args, '--config', config]);
  /** The waiting request for `tool` that was not there before, once `agenttrail approvals list` shows it. */
  const waitingRequest = async (tool: string, known: readonly string[] = []): Promise<ListedRequest> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const listed = await approvals('list', '--json');
      expect(listed.code, listed.stderr).toBe(0);
      const found = (JSON.parse(listed.stdout) as { requests: ListedRequest[] }).requests.find((request) => request.tool === tool && !known.includes(request.id));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no approval request for ${tool} appeared`);
  };
  const textOf = (result: unknown) => (result as { content: { text?: string }[] }).content.map((part) => part.text ?? '').join('');

  beforeAll(async () => {
    gateway = await startGateway(
      { everything: startEverythingStdio(), files: filesystemStdio(workFolder) },
      {
        policies: { dir: policyFolder },
        approvers: {
          alice: { key: alice.verifierKey, groups: ['security'], identities: ['alice-bot'] },
          bob: { key: bob.verifierKey, groups: ['security'] },
          carol: { key: carol.verifierKey, groups: ['ops'] },
        },
      },
    );
    config = join(gateway.folder, 'agenttrail.yaml');
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  it('holds a two-person call, with progress, until two different approvers of its group approve; then it runs', async () => {
    const agent = await connect();
    const target = join(workFolder, 'approved.txt');
    const progress: string[] = [];
    const call = agent.client.callTool(
      { name: 'files__write_file', arguments: { path: target, content: 'approved twice' } },
      { onprogress: (update) => progress.push(update.message ?? ''), resetTimeoutOnProgress: true },
    );
    const request = await waitingRequest('write_file');
    expect(request.arguments).toEqual({ path: target, content: 'approved twice' });
    expect(progress[0]).toMatch(new RegExp(`^waiting for 2 different approvers from security to approve \\(request ${request.id}\\): 0 of 2 so far, \\d+ (seconds|minutes) left$`));

    const byCarol = await approvals('approve', request.id, '--key', carol.file);
    expect(byCarol.code).toBe(2);
    expect(byCarol.stderr).toBe('agenttrail: approver "carol" is not in group security that the rule asks\n');

    const byAlice = await approvals('approve', request.id.slice(0, 13), '--key', alice.file, '--reason', 'looks fine');
    expect(byAlice.code, byAlice.stderr).toBe(0);
    expect(byAlice.stdout).toMatch(new RegExp(`^approved request ${request.id} \\(1 of 2 approvals\\) as alice, recorded as entry \\d+ of log "${DEFAULT_ORIGIN}"\\n$`));
    const again = await approvals('approve', request.id, '--key', alice.file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already decided request .* \(approve, entry \d+\); approvals need distinct approvers/);
    expect(existsSync(target)).toBe(false);

    expect((await approvals('approve', request.id, '--key', bob.file)).code).toBe(0);
    expect(textOf(await call)).toContain('Successfully wrote to');
    expect(existsSync(target)).toBe(true);

    const entries = await waitForEntries(() => gateway.entries(), (all) => all.some((entry) => entry.kind === 'tool.result' && entry.tool === 'write_file'));
    const ofCall = (kind: string) => entries.filter((entry) => entry.kind === kind && entry.tool === 'write_file');
    const [toolCall] = ofCall('tool.call');
    const [requested] = ofCall('approval.request');
    const decisions = ofCall('approval.decision');
    expect(requested).toMatchObject({ argsHash: toolCall!.argsHash, call: toolCall!.call, payload: { id: request.id, rule: 'two-person-writes', approvers: ['security'], count: 2, timeout: '2m' } });
    expect(decisions.map((entry) => entry.payload)).toMatchObject([
      { request: request.id, decision: 'approve', approver: 'alice', reason: 'looks fine', statement: { approver: alice.verifierKey, request: { id: request.id, index: requested!.index } } },
      { request: request.id, decision: 'approve', approver: 'bob', statement: { approver: bob.verifierKey } },
    ]);
    expect(ofCall('approval.consumed').map((entry) => entry.payload)).toEqual([{ request: request.id, approvals: decisions.map((entry) => entry.index) }]);
    expect(ofCall('tool.result').map((entry) => entry.outcome)).toEqual(['ok']);
    expect((await runAgenttrail(['verify', '--db', gateway.db])).code).toBe(0);
  });

  it('refuses the call at once when an approver denies it, and the agent reads the reason', async () => {
    const agent = await connect();
    const target = join(workFolder, 'denied.txt');
    const call = agent.client.callTool({ name: 'files__write_file', arguments: { path: target, content: 'no' } });
    const request = await waitingRequest('write_file');
    expect((await approvals('deny', request.id, '--key', bob.file, '--reason', 'not on a Friday')).code).toBe(0);
    const result = (await call) as { isError?: boolean };
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`AgentTrail policy refused this call: approver bob denied it: not on a Friday (approval request ${request.id}).`);
    expect(existsSync(target)).toBe(false);
  });

  it('never lets an approver approve a call made under their own identity', async () => {
    const added = await runAgenttrail(['agents', 'add', 'alice-bot', '--db', gateway.db, '--key', keyFileBeside(gateway.db), '--json']);
    const agent = await connect((JSON.parse(added.stdout) as { token: string }).token);
    void agent.client.callTool({ name: 'files__write_file', arguments: { path: join(workFolder, 'own.txt'), content: 'mine' } }).catch(() => undefined);
    const request = await waitingRequest('write_file');
    expect(request.agent.id).toBe('alice-bot');
    const own = await approvals('approve', request.id, '--key', alice.file);
    expect(own.code).toBe(2);
    expect(own.stderr).toBe('agenttrail: approver "alice" cannot decide a call made under their own identity (alice-bot)\n');
    expect((await approvals('deny', request.id, '--key', bob.file)).code).toBe(0);
  });

  it('refuses a call whose approval did not come in time, and a decision that comes too late', async () => {
    const agent = await connect();
    const result = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'may I?' } });
    expect(textOf(result)).toMatch(/^AgentTrail policy refused this call: it needed the approval of an approver from ops within 2 seconds, and 0 of 1 approved in time \(approval request [0-9a-f-]{36}\)\.$/);
    const id = /approval request ([0-9a-f-]{36})/.exec(textOf(result))![1]!;
    const late = await approvals('approve', id, '--key', carol.file);
    expect(late.code).toBe(2);
    expect(late.stderr).toBe(`agenttrail: approval request ${id} is expired; there is nothing to decide\n`);
  });

  it('gives an agent that stopped waiting its approved call on a retry with identical arguments, once', async () => {
    const agent = await connect();
    const sum = (b: number, timeout?: number) => agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 40, b } }, timeout === undefined ? {} : { timeout });
    await expect(sum(2, 1000)).rejects.toThrow(/timed out/i);
    const request = await waitingRequest('get-sum');
    expect((await approvals('approve', request.id, '--key', carol.file)).code).toBe(0);
    // Whether or not the gateway has read the approval yet, the retry is the call it approves.
    expect(textOf(await sum(2))).toBe('The sum of 40 and 2 is 42.');

    // Used up: the same call again, or another sum, asks anew.
    await expect(sum(2, 1000)).rejects.toThrow(/timed out/i);
    const anew = await waitingRequest('get-sum', [request.id]);
    await expect(sum(3, 1000)).rejects.toThrow(/timed out/i);
    const other = await waitingRequest('get-sum', [request.id, anew.id]);
    expect(other.arguments).toEqual({ a: 40, b: 3 });

    const entries = await gateway.entries();
    const decisions = entries.filter((entry) => entry.kind === 'policy.decision' && entry.tool === 'get-sum');
    expect(decisions.map((entry) => (entry.payload as { request: string }).request)).toEqual([request.id, request.id, anew.id, other.id]);
    const results = entries.filter((entry) => entry.kind === 'tool.result' && entry.tool === 'get-sum');
    expect(results.slice(0, 2).map((entry) => entry.outcome)).toEqual(['cancelled', 'ok']);
  });

  it('fails verify (exit 1) on an approval whose signature its approver did not make, and the gateway ignores it', async () => {
    const request = await waitingRequest('get-sum');
    const [requested] = (await gateway.entries()).filter((entry) => entry.kind === 'approval.request' && (entry.payload as { id: string }).id === request.id) as [Entry];
    const forger = parseSignerKey(generateSignerKey('alice'));
    // Someone who holds the gateway's key, not alice's, writes a decision in alice's name.
    const database = await openAuditDatabase({ url: gateway.db }, DEFAULT_ORIGIN, await readGatewayKey(keyFileBeside(gateway.db)));
    const sha256 = sha256Hex(canonicalBytes(requested));
    const statement = { type: 'agenttrail.approval-decision/v1', log: DEFAULT_ORIGIN, request: { id: request.id, index: requested.index, sha256 }, decision: 'approve', approver: alice.verifierKey, time: new Date().toISOString() };
    const forged = await database.appender.append({
      v: 1,
      time: statement.time,
      kind: 'approval.decision',
      session: requested.session,
      agent: { transport: 'cli' },
      payload: { request: request.id, decision: 'approve', approver: 'alice', statement, signature: Buffer.from(forger.sign(canonicalBytes(statement))).toString('base64') },
    });
    await database.close();

    const verified = await runAgenttrail(['verify', '--db', gateway.db, '--json']);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: false,
      failure: { subject: `entry ${forged.index}`, reason: `approval decision carries a signature that approver key ${alice.verifierKey} did not make` },
    });
    const ignored = `agenttrail: approval decision (entry ${forged.index}) ignored: carries a signature that approver key ${alice.verifierKey} did not make`;
    for (let attempt = 0; attempt < 50 && !gateway.output().stderr.includes(ignored); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gateway.output().stderr).toContain(ignored);
    // The call it claims to approve still waits.
    expect((await waitingRequest('get-sum')).id).toBe(request.id);
  });
});
