// The gateway as a Cloudflare Worker, in workerd: agents of both revisions call a real MCP server
// through it, the calls are recorded in a real sqld, and the log verifies, in the Worker and with
// `agenttrail verify` run from Node.
import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/ledger/entry.js';
import { parseVerifierKey } from '../../src/ledger/note-keys.js';
import { verifyLog } from '../../src/ledger/log-verifier.js';
import { openLibsqlStore } from '../../src/store/libsql-store.js';
import { AgentTrailGateway } from '../../src/worker/gateway-object.js';
import { openWorkerGateway } from '../../src/worker/worker-gateway.js';
import { WORKER_ORIGIN } from './worker-test-config.js';

const GATEWAY_URL = 'http://localhost/mcp';

/** Requests reach the deployed Worker's fetch handler as they would from Cloudflare's edge: with the Host header the client sent. */
function throughWorker(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  request.headers.set('host', new URL(request.url).host);
  return exports.default.fetch(request);
}

async function connectAgent(revision: '2025-11-25' | '2026-07-28', token = env.TEST_AGENT_TOKEN): Promise<Client> {
  const client = new Client(
    { name: `edge-client-${revision}`, version: '1.0.0' },
    { versionNegotiation: { mode: revision === '2025-11-25' ? 'legacy' : { pin: '2026-07-28' } } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(GATEWAY_URL), { fetch: throughWorker, requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

const textOf = (result: CallToolResult): string => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

async function recordedEntries(): Promise<Entry[]> {
  const store = await openLibsqlStore({ url: env.AGENTTRAIL_DB, readOnly: true });
  try {
    return await store.entries(WORKER_ORIGIN);
  } finally {
    await store.close();
  }
}

describe('the gateway on Cloudflare Workers', () => {
  it('forwards a 2025-11-25 session to HTTP upstreams (Streamable HTTP and legacy SSE) and keeps the session between requests', async () => {
    const client = await connectAgent('2025-11-25');
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain('everything__echo');
      const first = (await client.callTool({ name: 'everything__echo', arguments: { message: 'hello from the edge' } })) as CallToolResult;
      expect(textOf(first)).toBe('Echo: hello from the edge');
      const second = (await client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 40 } })) as CallToolResult;
      expect(textOf(second)).toContain('42');
      const legacy = (await client.callTool({ name: 'legacy__echo', arguments: { message: 'over the legacy transport' } })) as CallToolResult;
      expect(textOf(legacy)).toBe('Echo: over the legacy transport');
    } finally {
      await client.close();
    }
  });

  it('serves 2026-07-28 agents statelessly', async () => {
    const client = await connectAgent('2026-07-28');
    try {
      const result = (await client.callTool({ name: 'everything__echo', arguments: { message: 'stateless at the edge' } })) as CallToolResult;
      expect(textOf(result)).toBe('Echo: stateless at the edge');
    } finally {
      await client.close();
    }
  });

  it('refuses an agent without a valid token, and records the refusal', async () => {
    const refused = await throughWorker(GATEWAY_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer agt_not-a-token-the-database-knows' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'intruder', version: '0' } } }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('the token is not known');
    expect((await recordedEntries()).some((entry) => entry.kind === 'auth.refused')).toBe(true);
  });

  it('records every call in the libSQL server, and the log verifies in the Worker and with agenttrail verify', async () => {
    const entries = await recordedEntries();
    const echoes = entries.filter((entry) => entry.kind === 'tool.call' && entry.tool === 'echo');
    expect(echoes.map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message)).toEqual(
      expect.arrayContaining(['hello from the edge', 'over the legacy transport', 'stateless at the edge']),
    );
    for (const call of echoes) {
      const result = entries.find((entry) => entry.kind === 'tool.result' && entry.call === call.call);
      expect(result?.outcome).toBe('ok');
      expect(call.agent).toMatchObject({ transport: 'http', id: 'edge-agent', auth: 'token' });
    }

    const store = await openLibsqlStore({ url: env.AGENTTRAIL_DB, readOnly: true });
    try {
      const summary = await verifyLog(store, WORKER_ORIGIN, { keys: [parseVerifierKey(env.TEST_VERIFIER_KEY)] });
      expect(summary.entries).toBe(entries.length);
      expect(summary.keys).toEqual([env.TEST_VERIFIER_KEY]);
    } finally {
      await store.close();
    }

    const verified = await env.AGENTTRAIL_CLI.fetch('http://agenttrail.cli/', {
      method: 'POST',
      body: JSON.stringify({ args: ['verify', '--db', env.AGENTTRAIL_DB, '--key', env.TEST_VERIFIER_KEY, '--json'] }),
    });
    const { code, stdout, stderr } = (await verified.json()) as { code: number; stdout: string; stderr: string };
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { ok: boolean; logs: { log: string; entries: number }[] };
    expect(report.ok).toBe(true);
    expect(report.logs).toEqual([expect.objectContaining({ log: WORKER_ORIGIN, entries: entries.length })]);
  });

  it('refuses a config with a stdio server, naming it and what to do instead', async () => {
    const config = JSON.parse(env.AGENTTRAIL_CONFIG) as { servers: Record<string, unknown> };
    config.servers['files'] = { command: 'npx', args: ['@modelcontextprotocol/server-filesystem', '/tmp'] };
    await expect(openWorkerGateway({ ...env, AGENTTRAIL_CONFIG: JSON.stringify(config) })).rejects.toThrow(
      'AGENTTRAIL_CONFIG: servers.files: a Worker cannot start stdio servers (command: npx); reach the server over HTTP (url:)',
    );
  });

  it('fails closed with 503 and the reason while a secret is missing or the database is down, and starts once they are back', async () => {
    const stub = env.AGENTTRAIL_GATEWAY.getByName('gateway');
    const initialize = () =>
      new Request(GATEWAY_URL, {
        method: 'POST',
        headers: { host: 'localhost', 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${env.TEST_AGENT_TOKEN}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'edge', version: '0' } } }),
      });
    // Other instances of the class, on the same object, deployed with other bindings; what they
    // answer is read there, where it was made.
    const [withoutKey, databaseDown, healthy] = await runInDurableObject(stub, (_running, state) => {
      const answer = async (bindings: object) => {
        const response = await new AgentTrailGateway(state, bindings).fetch(initialize());
        return { status: response.status, body: await response.text() };
      };
      return Promise.all([answer({ ...env, AGENTTRAIL_SIGNER_KEY: undefined }), answer({ ...env, AGENTTRAIL_DB: 'http://127.0.0.1:9' }), answer(env)]);
    });
    expect(withoutKey).toEqual({ status: 503, body: expect.stringContaining('AgentTrail cannot start: set the secret AGENTTRAIL_SIGNER_KEY') });
    expect(databaseDown).toEqual({ status: 503, body: expect.stringContaining('AgentTrail cannot start: cannot open audit database http://127.0.0.1:9') });
    expect(healthy).toEqual({ status: 200, body: expect.stringContaining('"protocolVersion":"2025-11-25"') });
  });
});
