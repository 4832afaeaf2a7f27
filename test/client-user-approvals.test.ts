// Approval by the user at the agent's client (issue 6 point 4): where a rule says clientUser: true,
// the gateway asks the person at the agent's client through MCP elicitation, elicitation/create on
// a 2025-11-25 session, an input-required result with a sealed requestState on 2026-07-28, and
// records the answer as a weaker client-user approval that counts only where the rule accepts it.
import { join } from 'node:path';
import type { ClientContext, ElicitRequest, ElicitResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditDatabase } from '../src/cli/audit-database.js';
import { readGatewayKey } from '../src/cli/gateway-key.js';
import type { Entry } from '../src/ledger/entry.js';
import { approverKey } from './support/approver-keys.js';
import { policyFolder } from './support/policy-folder.js';
import { connectClient, REVISIONS } from './support/clients.js';
import { jsonRpcAnswer, postModernToolCall } from './support/modern-requests.js';
import type { ClientRevision, ConnectedClient } from './support/clients.js';
import { DEFAULT_ORIGIN, keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const policies = policyFolder([
  { id: 'the-user-may-nod', tools: ['get-sum'], action: 'require_approval', approval: { approvers: ['ops'], timeout: '1m', clientUser: true } },
  { id: 'approvers-only', tools: ['echo'], action: 'require_approval', approval: { approvers: ['ops'], timeout: '2s' } },
  { id: 'the-rest', action: 'allow' },
]);
const carol = approverKey('carol');

type Answer = (request: ElicitRequest, ctx: ClientContext) => ElicitResult | Promise<ElicitResult>;

const textOf = (result: unknown) => (result as { content: { text?: string }[] }).content.map((part) => part.text ?? '').join('');
const via: Record<ClientRevision, string> = { '2025-11-25': 'elicitation/create', '2026-07-28': 'input-required' };

describe("approval by the user at the agent's client", () => {
  let gateway: RunningGateway;
  const agents: ConnectedClient[] = [];
  /** An agent whose user answers each approval question with `answers` in turn; the questions are kept. */
  const agentAnswering = async (revision: ClientRevision, ...answers: Answer[]) => {
    const asked: ElicitRequest[] = [];
    const agent = await connectClient({
      transport: 'http',
      url: gateway.url,
      revision,
      handlers: {
        elicitation: (request, ctx) => {
          asked.push(request);
          const answer = answers.shift();
          if (answer === undefined) throw new Error('the test did not expect another question');
          return answer(request, ctx);
        },
      },
    });
    agents.push(agent);
    return { agent, asked };
  };
  const entriesOfRequest = async (id: string) => (await gateway.entries()).filter((entry) => (entry.payload as { request?: string; id?: string } | undefined)?.request === id || (entry.kind === 'approval.request' && (entry.payload as { id: string }).id === id));

  beforeAll(async () => {
    gateway = await startGateway(
      { everything: startEverythingStdio() },
      { policies: { dir: policies }, approvers: { carol: { key: carol.verifierKey, groups: ['ops'] } } },
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  describe.each(REVISIONS)('on %s', (revision) => {
    it('asks the user, who approves: the call runs, recorded as a client-user approval', async () => {
      const { agent, asked } = await agentAnswering(revision, () => ({ action: 'accept', content: { decision: 'approve' } }));
      const result = await agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 30, b: 12 } });
      expect(textOf(result)).toBe('The sum of 30 and 12 is 42.');
      expect(asked).toHaveLength(1);
      const question = asked[0]!.params as { message: string; requestedSchema: { required: string[] } };
      expect(question.message).toMatch(/^AgentTrail holds a call for approval\. The agent wants to call get-sum on everything with \{"a":30,"b":12\}\. .* \(rule the-user-may-nod\)\. Unless it is approved by \S+, it is refused\.$/);
      expect(question.requestedSchema.required).toEqual(['decision']);

      const entries = await waitForEntries(() => gateway.entries(), (all) => all.some((entry) => entry.kind === 'tool.result' && entry.tool === 'get-sum' && entry.outcome === 'ok' && (entry.payload as { result: { content: { text: string }[] } }).result.content[0]?.text.includes('30 and 12') === true));
      const requested = entries.filter((entry) => entry.kind === 'approval.request').at(-1)!;
      const id = (requested.payload as { id: string }).id;
      expect(requested.payload).toMatchObject({ rule: 'the-user-may-nod', clientUser: true });
      const decision = entries.find((entry) => entry.kind === 'approval.decision' && (entry.payload as { request: string }).request === id)!;
      expect(decision.payload).toEqual({ request: id, decision: 'approve', clientUser: { via: via[revision] } });
      expect(decision).toMatchObject({ session: requested.session, agent: requested.agent, tool: 'get-sum' });
      expect(entries.find((entry) => entry.kind === 'approval.consumed' && (entry.payload as { request: string }).request === id)!.payload).toEqual({ request: id, approvals: [decision.index] });
      const verified = await runAgenttrail(['verify', '--db', gateway.db]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    });

    it('asks the user, who denies: the agent reads why', async () => {
      const { agent } = await agentAnswering(revision, () => ({ action: 'accept', content: { decision: 'deny', reason: 'not with my numbers' } }));
      const result = await agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } });
      expect(textOf(result)).toMatch(/^AgentTrail policy refused this call: the user at the agent's client denied it: not with my numbers \(approval request [0-9a-f-]{36}\)\.$/);
      const id = /approval request ([0-9a-f-]{36})/.exec(textOf(result))![1]!;
      expect((await entriesOfRequest(id)).map((entry) => entry.kind)).toEqual(['policy.decision', 'approval.request', ...(revision === '2026-07-28' ? ['policy.decision'] : []), 'approval.decision']);
    });

    it('does not ask the user where the rule does not accept their approval', async () => {
      const { agent, asked } = await agentAnswering(revision);
      const result = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'only approvers may say' } });
      expect(textOf(result)).toMatch(/^AgentTrail policy refused this call: it needed the approval of an approver from ops within 2 seconds, and 0 of 1 approved in time/);
      expect(asked).toHaveLength(0);
    });
  });

  it('withdraws the question when an approver decides first (2025-11-25)', async () => {
    let withdrawn: unknown;
    const { agent, asked } = await agentAnswering('2025-11-25', (_request, ctx) =>
      new Promise<ElicitResult>((_resolve, reject) => {
        ctx.mcpReq.signal.addEventListener('abort', () => {
          withdrawn = ctx.mcpReq.signal.reason;
          reject(new Error('withdrawn'));
        });
      }),
    );
    const sum = agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 5, b: 5 } });
    while (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const listed = JSON.parse((await runAgenttrail(['approvals', 'list', '--json', '--config', join(gateway.folder, 'agenttrail.yaml')])).stdout) as { requests: { id: string; clientUser: boolean }[] };
    const request = listed.requests.at(-1)!;
    expect(request.clientUser).toBe(true);
    const approved = await runAgenttrail(['approvals', 'approve', request.id, '--key', carol.file, '--config', join(gateway.folder, 'agenttrail.yaml')]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(textOf(await sum)).toBe('The sum of 5 and 5 is 10.');
    for (let attempt = 0; attempt < 50 && withdrawn === undefined; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(withdrawn).toBeDefined();
    expect((await entriesOfRequest(request.id)).filter((entry) => entry.kind === 'approval.decision').map((entry) => (entry.payload as { approver?: string }).approver)).toEqual(['carol']);
  });

  describe('2026-07-28 rounds', () => {
    /** A tools/call as a 2026-07-28 client sends it, answered as JSON-RPC. */
    const rawCall = async (args: Record<string, unknown>, retry: { requestState?: string; inputResponses?: Record<string, unknown> } = {}) =>
      jsonRpcAnswer<{ result?: { resultType?: string; requestState?: string; inputRequests?: Record<string, unknown>; content?: { text: string }[] }; error?: { code: number; message: string } }>(
        await postModernToolCall(gateway.url, { name: 'everything__get-sum', arguments: args, ...retry, capabilities: { elicitation: {} } }),
      );
    const approve = { agenttrail_approval: { action: 'accept', content: { decision: 'approve' } } };

    it('refuses a tampered requestState, and one sealed for another call does not approve this one', async () => {
      const first = await rawCall({ a: 7, b: 7 });
      expect(first.result).toMatchObject({ resultType: 'input_required', inputRequests: { agenttrail_approval: { method: 'elicitation/create' } } });
      const state = first.result!.requestState!;

      const tampered = await rawCall({ a: 7, b: 7 }, { requestState: `${state.slice(0, -4)}AAAA`, inputResponses: approve });
      expect(tampered.error?.code).toBe(-32602);

      // The state of the call with 7 and 7, carried to a call with 7 and 8: that call is asked afresh, not run.
      const other = await rawCall({ a: 7, b: 8 }, { requestState: state, inputResponses: approve });
      expect(other.result).toMatchObject({ resultType: 'input_required' });
      expect(other.result!.requestState).not.toBe(state);

      // Its own call, answered with its own state, runs.
      const answered = await rawCall({ a: 7, b: 7 }, { requestState: state, inputResponses: approve });
      expect(answered.result?.content?.[0]?.text).toBe('The sum of 7 and 7 is 14.');
    });
  });

  it('fails verify (exit 1) on a client-user approval of a request whose rule does not accept one', async () => {
    const requested = (await gateway.entries()).filter((entry) => entry.kind === 'approval.request' && (entry.payload as { rule: string }).rule === 'approvers-only').at(-1) as Entry;
    const id = (requested.payload as { id: string }).id;
    const database = await openAuditDatabase({ url: gateway.db }, DEFAULT_ORIGIN, await readGatewayKey(keyFileBeside(gateway.db)));
    const forged = await database.appender.append({
      v: 1,
      time: new Date().toISOString(),
      kind: 'approval.decision',
      session: requested.session,
      agent: requested.agent,
      payload: { request: id, decision: 'approve', clientUser: { via: 'elicitation/create' } },
    });
    await database.close();
    const verified = await runAgenttrail(['verify', '--db', gateway.db, '--json']);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      failure: { subject: `entry ${forged.index}`, reason: `approval decision is the answer of the user at the agent's client to approval request ${id}, whose rule does not accept one` },
    });
  });
});
