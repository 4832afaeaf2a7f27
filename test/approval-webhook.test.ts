// The approval webhook (issue 6 point 4): a JSON POST for every new approval request, signed with
// HMAC-SHA256 when a secret is configured, retried with backoff when the receiver fails, each
// attempt recorded, and never in the way of the call that waits.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approverKey } from './support/approver-keys.js';
import { policyFolder } from './support/policy-folder.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { DEFAULT_ORIGIN, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const SECRET = 'webhook-secret-4f1c9a7e2b';
const policies = policyFolder([
  { id: 'sums-need-a-nod', tools: ['get-sum'], action: 'require_approval', approval: { approvers: ['ops'], timeout: '1m' } },
  { id: 'the-rest', action: 'allow' },
]);
const carol = approverKey('carol');

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A chat integration on loopback: it answers each delivery as the test tells it, and keeps what it got. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const answers: ((response: ServerResponse) => void)[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body });
      (answers.shift() ?? ((answer) => answer.writeHead(204).end()))(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0001/approvals`,
    deliveries,
    /** How the next deliveries are answered, in order; later ones get 204. */
    answerNext: (...next: ((response: ServerResponse) => void)[]) => answers.push(...next),
    /** Resolves once `count` deliveries have arrived. */
    delivered: async (count: number, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < count) {
        if (Date.now() > deadline) throw new Error(`${deliveries.length} of ${count} deliveries arrived within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the approval webhook', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let gateway: RunningGateway;
  const agents: ConnectedClient[] = [];
  const connect = async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
    agents.push(agent);
    return agent;
  };
  const approve = async (id: string) => {
    const approved = await runAgenttrail(['approvals', 'approve', id, '--key', carol.file, '--config', join(gateway.folder, 'agenttrail.yaml')]);
    expect(approved.code, approved.stderr).toBe(0);
  };
  const textOf = (result: unknown) => (result as { content: { text?: string }[] }).content.map((part) => part.text ?? '').join('');

  beforeAll(async () => {
    receiver = await startReceiver();
    gateway = await startGateway(
      { everything: startEverythingStdio() },
      {
        policies: { dir: policies },
        approvers: { carol: { key: carol.verifierKey, groups: ['ops'] } },
        approvals: { webhook: { url: receiver.url, secret: 'env:AGENTTRAIL_TEST_WEBHOOK_SECRET', timeoutMs: 1500, retries: 3 } },
        env: { AGENTTRAIL_TEST_WEBHOOK_SECRET: SECRET },
      },
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
    await receiver?.close();
  });

  it('posts each new request, signed, and tries again after a failure until the receiver takes it', async () => {
    receiver.answerNext((response) => response.writeHead(503).end('try later'));
    const agent = await connect();
    const sum = agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } });
    await receiver.delivered(2);
    const [failed, taken] = receiver.deliveries as [Delivery, Delivery];
    expect(taken.body).toBe(failed.body);
    expect(taken.headers['x-agenttrail-delivery']).toBe(failed.headers['x-agenttrail-delivery']);
    for (const delivery of [failed, taken]) {
      expect(delivery.headers['content-type']).toBe('application/json');
      const expected = createHmac('sha256', SECRET).update(`${delivery.headers['x-agenttrail-timestamp'] as string}.${delivery.body}`).digest('hex');
      expect(delivery.headers['x-agenttrail-signature']).toBe(`sha256=${expected}`);
    }
    const notice = JSON.parse(taken.body) as { id: string; argsHash: string };
    const entries = await gateway.entries();
    const requested = entries.find((entry) => entry.kind === 'approval.request')!;
    expect(notice).toEqual({
      type: 'agenttrail.approval-request/v1',
      log: DEFAULT_ORIGIN,
      id: (requested.payload as { id: string }).id,
      agent: requested.agent,
      server: 'everything',
      tool: 'get-sum',
      argsHash: requested.argsHash,
      policyVersion: (requested.payload as { policyVersion: string }).policyVersion,
      rule: 'sums-need-a-nod',
      approvers: ['ops'],
      count: 1,
      expires: (requested.payload as { expires: string }).expires,
      clientUser: false,
      decide: {
        cli: [`agenttrail approvals approve ${notice.id} --key FILE`, `agenttrail approvals deny ${notice.id} --key FILE --reason TEXT`],
        api: { read: `GET /v1/approvals/${notice.id}`, decide: `POST /v1/approvals/${notice.id}/decision` },
      },
    });

    await approve(notice.id);
    expect(textOf(await sum)).toBe('The sum of 2 and 3 is 5.');
    const attempts = (await waitForEntries(() => gateway.entries(), (all) => all.filter((entry) => entry.kind === 'approval.notification').length === 2)).filter(
      (entry) => entry.kind === 'approval.notification',
    );
    expect(attempts.map((entry) => [entry.session, entry.agent.transport, entry.payload])).toEqual([
      [requested.session, 'http', { request: notice.id, channel: 'webhook', receiver: new URL(receiver.url).origin, delivery: failed.headers['x-agenttrail-delivery'], attempt: 1, outcome: 'failed', status: 503, error: 'the receiver answered 503 Service Unavailable', retryInMs: 1000 }],
      [requested.session, 'http', { request: notice.id, channel: 'webhook', receiver: new URL(receiver.url).origin, delivery: failed.headers['x-agenttrail-delivery'], attempt: 2, outcome: 'delivered', status: 204 }],
    ]);
  });

  it('never holds up the call: it runs once approved while the receiver still has not answered, and a decided request is not announced again', async () => {
    const before = receiver.deliveries.length;
    let answerLate: ServerResponse | undefined;
    receiver.answerNext((response) => (answerLate = response));
    const agent = await connect();
    const sum = agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 4, b: 5 } });
    await receiver.delivered(before + 1);
    await approve((JSON.parse(receiver.deliveries[before]!.body) as { id: string }).id);
    expect(textOf(await sum)).toBe('The sum of 4 and 5 is 9.');
    expect(answerLate).toBeDefined();

    // The hanging attempt times out (1.5 s); the request is decided, so no retry follows.
    const entries = await waitForEntries(() => gateway.entries(), (all) => all.filter((entry) => entry.kind === 'approval.notification').length === 3, 6000);
    expect(entries.filter((entry) => entry.kind === 'approval.notification').at(-1)!.payload).toMatchObject({ attempt: 1, outcome: 'failed', error: 'no answer within 1500 ms', retryInMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.deliveries.length).toBe(before + 1);
    expect(readFileSync(gateway.db.replace(/^file:/, '')).includes(SECRET)).toBe(false);
    expect((await runAgenttrail(['verify', '--db', gateway.db])).code).toBe(0);
  });
});
