// Credentials for listed agents and listed tools only (issue 5, point 4): the gateway attaches such a
// credential to an HTTP upstream's request only when the calling agent and the tool are allowed,
// and records a credential.delegated entry only then. Two agents' calls share one upstream
// connection, concurrently, and each request carries its own agent's credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { reportedHeaders, startCredentialEchoServer } from './support/credential-echo-server.js';
import type { CredentialEchoServer } from './support/credential-echo-server.js';
import { startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { addPrincipal } from './support/principals.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const REPO_TOKEN = 'repo-secret-9Xk2Lm7Qw4';
const AUDIT_KEY = 'audit-secret-4Hd8Zp1Rt6';
const ALICE_HEADERS = { authorization: `Bearer ${REPO_TOKEN}` };
const BOB_HEADERS = { 'x-audit-key': AUDIT_KEY };

describe('credentials limited to agents and tools', () => {
  let echo: CredentialEchoServer;
  let gateway: RunningGateway;
  let alice: ConnectedClient;
  let bob: ConnectedClient;

  beforeAll(async () => {
    echo = await startCredentialEchoServer();
    gateway = await startGateway(
      { echo: { url: echo.url, protocol: '2025-11-25' } },
      {
        auth: { unauthenticated: 'refuse' },
        env: { REPO_TOKEN, AUDIT_KEY },
        credentials: {
          'repo-token': { source: 'env:REPO_TOKEN', servers: ['echo'], header: 'Authorization', format: 'Bearer {value}', agents: ['alice-bot'], tools: ['repo-*'] },
          'audit-key': { source: 'env:AUDIT_KEY', servers: ['echo'], header: 'X-Audit-Key', agents: ['bob-bot'] },
        },
      },
    );
    // Both on 2026-07-28: stateless agents share the gateway's connection to the upstream.
    alice = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', headers: { authorization: `Bearer ${await addPrincipal(gateway, 'alice-bot')}` } });
    bob = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', headers: { authorization: `Bearer ${await addPrincipal(gateway, 'bob-bot')}` } });
  }, 60_000);

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await gateway?.stop();
    await echo?.close();
  });

  const call = async (agent: ConnectedClient, tool: string) => reportedHeaders(await agent.client.callTool({ name: `echo__${tool}`, arguments: {} }));

  it('attaches a credential only to the calls of the agents and tools it is for, and records only those', async () => {
    expect(await call(alice, 'repo-read')).toEqual(ALICE_HEADERS);
    expect(await call(alice, 'repo-write')).toEqual(ALICE_HEADERS);
    expect(await call(alice, 'whoami')).toEqual({});
    expect(await call(bob, 'repo-read')).toEqual(BOB_HEADERS);
    expect(await call(bob, 'whoami')).toEqual(BOB_HEADERS);

    const entries = await waitForEntries(gateway.entries, (all) => all.filter((entry) => entry.kind === 'tool.result').length === 5);
    const delegatedFor = (agent: string, tool: string) => {
      const request = entries.find((entry) => entry.kind === 'tool.call' && entry.agent.id === agent && entry.tool === tool)!;
      return entries
        .filter((entry) => entry.kind === 'credential.delegated' && entry.call === request.call)
        .map((entry) => (entry.payload as { credential: { name: string; carrier: string } }).credential)
        .map(({ name, carrier }) => `${name} (${carrier})`);
    };
    expect(delegatedFor('alice-bot', 'repo-read')).toEqual(['repo-token (header Authorization)']);
    expect(delegatedFor('alice-bot', 'repo-write')).toEqual(['repo-token (header Authorization)']);
    expect(delegatedFor('alice-bot', 'whoami')).toEqual([]);
    expect(delegatedFor('bob-bot', 'repo-read')).toEqual(['audit-key (header X-Audit-Key)']);
    expect(delegatedFor('bob-bot', 'whoami')).toEqual(['audit-key (header X-Audit-Key)']);
    // What serves no agent's call (the handshake, the tool lists) carries no limited credential.
    const unlimited = echo.seen.filter((request) => request.method !== 'tools/call');
    expect(unlimited.length).toBeGreaterThan(0);
    for (const request of unlimited) expect(request.headers).toEqual({});
  });

  it('keeps each agent\'s credentials to its own requests when their calls run at once over one upstream connection', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? { agent: alice, expected: ALICE_HEADERS } : { agent: bob, expected: BOB_HEADERS }));
    const answers = await Promise.all(calls.map(({ agent }) => call(agent, 'repo-read')));
    answers.forEach((answer, i) => expect(answer).toEqual(calls[i]!.expected));
    expect(echo.seen.filter((request) => request.method === 'initialize'), 'the agents share one upstream connection').toHaveLength(1);
  });

  it('refuses at start a limited credential for a stdio server, whose one environment serves every agent and tool', async () => {
    const start = startGateway(
      { everything: startEverythingStdio() },
      { env: { REPO_TOKEN }, credentials: { 'repo-token': { source: 'env:REPO_TOKEN', servers: ['everything'], env: 'REPO_TOKEN', agents: ['alice-bot'] } } },
    );
    await expect(start).rejects.toThrow(
      /credentials\.repo-token: server "everything" runs over stdio, whose environment is set once when the process starts and serves every agent and tool: a credential limited to agents or tools can go only to an HTTP server/,
    );
  });
});
