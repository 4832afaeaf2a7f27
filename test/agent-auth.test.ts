// Who is calling (issue 5, points 1, 2 and 6): agents on the HTTP endpoint prove who they are with a
// token from `agenttrail agents add` or an OAuth access token; everything else is refused with a 401
// that points at the protected resource metadata, and recorded. A suspended agent is refused from
// its next request, in the middle of a session too.
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { connectClient, REVISIONS } from './support/clients.js';
import { keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { AUDIENCE, ISSUER, startIssuer } from './support/oauth-issuer.js';
import type { TestIssuer } from './support/oauth-issuer.js';
import { addPrincipal } from './support/principals.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

async function agentsCommand(gateway: RunningGateway, action: string, name: string): Promise<void> {
  const done = await runAgenttrail(['agents', action, name, '--db', gateway.db, '--key', keyFileBeside(gateway.db)]);
  expect(done.code, done.stderr).toBe(0);
}

function post(gateway: RunningGateway, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } }),
  });
}

describe('agents on the HTTP endpoint', () => {
  let issuer: TestIssuer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    issuer = await startIssuer();
    gateway = await startGateway(
      { everything: startEverythingStdio() },
      { auth: { unauthenticated: 'refuse', oauth: { issuer: ISSUER, audience: AUDIENCE, jwks: issuer.jwks } } },
    );
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await issuer?.close();
  });

  it('refuses a request without a token with 401, naming where to learn how to get one', async () => {
    const response = await post(gateway);
    expect(response.status).toBe(401);
    const metadataUrl = new URL('/.well-known/oauth-protected-resource/mcp', gateway.url).href;
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/authentication required: send Authorization: Bearer <token>/);
    const metadata = await (await fetch(metadataUrl)).json();
    expect(metadata).toEqual({
      resource: AUDIENCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      resource_name: 'AgentTrail MCP gateway',
    });
  });

  test.each(REVISIONS)('an agent with its own token calls tools on %s, and every entry names it', async (revision) => {
    const name = `bot-${revision.replaceAll('-', '')}`;
    const token = await addPrincipal(gateway, name);
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision, headers: { authorization: `Bearer ${token}` }, name: `${name}-client` });
    try {
      const result = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello' }]);
    } finally {
      await agent.close();
    }
    const entries = await waitForEntries(gateway.entries, (all) => all.some((e) => e.kind === 'tool.result' && e.agent.client?.name === `${name}-client`));
    const mine = entries.filter((entry) => entry.agent.client?.name === `${name}-client`);
    expect(mine.length).toBeGreaterThan(0);
    for (const entry of mine) expect(entry.agent).toMatchObject({ transport: 'http', id: name, auth: 'token' });
  });

  it('refuses a suspended agent at its next request, mid-session, and takes it back when resumed; revoked is for good', async () => {
    const token = await addPrincipal(gateway, 'flaky-bot');
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', headers: { authorization: `Bearer ${token}` } });
    try {
      await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'before' } });
      await agentsCommand(gateway, 'suspend', 'flaky-bot');
      await expect(agent.client.callTool({ name: 'everything__echo', arguments: { message: 'while suspended' } })).rejects.toThrow(/agent \\"flaky-bot\\" is suspended/);
      await agentsCommand(gateway, 'resume', 'flaky-bot');
      const after = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'after' } });
      expect(after.content).toEqual([{ type: 'text', text: 'Echo: after' }]);
      await agentsCommand(gateway, 'revoke', 'flaky-bot');
      await expect(agent.client.callTool({ name: 'everything__echo', arguments: { message: 'revoked' } })).rejects.toThrow(/agent \\"flaky-bot\\" has been revoked/);
    } finally {
      await agent.close().catch(() => undefined);
    }
    const entries = await gateway.entries();
    const echoed = entries.filter((entry) => entry.kind === 'tool.call' && entry.agent.id === 'flaky-bot').map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message);
    expect(echoed).toEqual(['before', 'after']);
    const refused = entries.filter((entry) => entry.kind === 'auth.refused' && entry.agent.id === 'flaky-bot').map((entry) => entry.payload);
    expect(refused).toEqual([{ reason: 'agent "flaky-bot" is suspended' }, { reason: 'agent "flaky-bot" has been revoked' }]);
    expect(entries.map((entry) => entry.kind)).toEqual(expect.arrayContaining(['agent.added', 'agent.suspended', 'agent.resumed', 'agent.revoked']));
  });

  it('never lets a reviewer, approver or admin token call tools', async () => {
    for (const role of ['reviewer', 'approver', 'admin']) {
      const response = await post(gateway, { authorization: `Bearer ${await addPrincipal(gateway, `${role}-1`, role)}` });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(`"${role}-1" holds a ${role} token, which cannot call tools; agents use agent tokens`);
    }
  });

  it('keeps a session to the agent that opened it', async () => {
    const owner = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', headers: { authorization: `Bearer ${await addPrincipal(gateway, 'owner-bot')}` } });
    try {
      const sessionId = (owner.client.transport as { sessionId?: string }).sessionId!;
      const intruder = await addPrincipal(gateway, 'intruder-bot');
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${intruder}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'hijack' } } }),
      });
      expect(response.status).toBe(404);
      expect((await owner.client.callTool({ name: 'everything__echo', arguments: { message: 'still mine' } })).content).toEqual([{ type: 'text', text: 'Echo: still mine' }]);
    } finally {
      await owner.close();
    }
  });

  it('accepts an OAuth access token from the configured issuer, recording the client and the human behind it', async () => {
    const token = await issuer.sign({});
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', headers: { authorization: `Bearer ${token}` }, name: 'oauth-client' });
    try {
      expect((await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'oauth' } })).content).toEqual([{ type: 'text', text: 'Echo: oauth' }]);
    } finally {
      await agent.close();
    }
    const entries = await waitForEntries(gateway.entries, (all) => all.some((e) => e.kind === 'tool.result' && e.agent.client?.name === 'oauth-client'));
    const call = entries.find((entry) => entry.kind === 'tool.call' && entry.agent.client?.name === 'oauth-client')!;
    expect(call.agent).toMatchObject({ id: 'research-agent', subject: 'alice@example.com', auth: 'oauth' });
    // The token itself is never recorded.
    expect(JSON.stringify(entries)).not.toContain(token);
  });

  const badTokens: { name: string; token: () => Promise<string>; reason: string }[] = [
    { name: 'for another audience', token: () => issuer.sign({}, { audience: 'https://other.example/mcp' }), reason: 'the token is for another audience' },
    { name: 'expired', token: () => issuer.sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), reason: 'the token has expired' },
    { name: 'with alg none', token: async () => new UnsecuredJWT({ client_id: 'x' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode(), reason: 'the token is signed with an algorithm that is not accepted' },
    { name: 'signed by a key the issuer does not publish', token: () => issuer.sign({}, { key: issuer.strangerKey }), reason: 'the token is not signed by the issuer' },
    { name: 'malformed', token: async () => 'not.a.jwt', reason: 'the token is malformed' },
    { name: 'an unknown AgentTrail token', token: async () => `agt_${'A'.repeat(43)}`, reason: 'the token is not known' },
  ];

  test.each(badTokens)('refuses a token $name with 401 invalid_token, saying why, and records the attempt', async ({ token, reason }) => {
    const response = await post(gateway, { authorization: `Bearer ${await token()}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer error="invalid_token", error_description="${reason}", resource_metadata="`));
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(reason);
    await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'auth.refused' && (entry.payload as { reason: string }).reason === reason));
  });

  it('still verifies its log', async () => {
    const verified = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verified.code, verified.stderr).toBe(0);
  });
});

describe('unauthenticated agents', () => {
  it('are served on loopback only when the config says so, and recorded as auth: none', async () => {
    const open = await startGateway({ everything: startEverythingStdio() }, { auth: { unauthenticated: 'loopback' } });
    const closed = await startGateway({ everything: startEverythingStdio() }, { auth: {} });
    try {
      expect((await post(closed)).status).toBe(401);
      const agent = await connectClient({ transport: 'http', url: open.url, revision: '2025-11-25', name: 'local-client' });
      await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'local' } });
      await agent.close();
      const entries = await waitForEntries(open.entries, (all) => all.some((e) => e.kind === 'tool.result'));
      expect(entries.find((entry) => entry.kind === 'tool.call')!.agent).toMatchObject({ auth: 'none', remote: '127.0.0.1' });
    } finally {
      await open.stop();
      await closed.stop();
    }
  });
});
