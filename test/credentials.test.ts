import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

// Made-up secrets with real shapes; none may ever reach the database, an export or the gateway's output.
const STDIO_TOKEN = 'stdio-secret-7Hq2Lx9Pz4';
const HTTP_TOKEN = 'http-secret-3Kd8Rw1Vn6';
const VAULT_TOKEN = 'vault-secret-5Tb0Yc2Mf8';
const GITHUB_TOKEN = 'ghp_R2d9Qm4Lx7Tz0Vb8Nc6Wk1Yp3Hs5Jf2Ga9Dq';
const SECRETS = [STDIO_TOKEN, HTTP_TOKEN, VAULT_TOKEN, GITHUB_TOKEN];

/** An HTTP MCP server that tells the caller which Authorization header reached it. */
async function startHeaderEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  let lastAuthorization: string | null = null;
  const httpServer = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      lastAuthorization = request.headers.get('authorization');
      const server = new McpServer({ name: 'header-echo', version: '1.0.0' });
      server.registerTool('seen-authorization', { description: 'the Authorization header of this request' }, async () => ({
        content: [{ type: 'text', text: `authorization: ${lastAuthorization ?? '(none)'}` }],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(request);
    },
  });
  await new Promise<void>((resolve) => httpServer.once('listening', () => resolve()));
  const { port } = httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise((resolve) => httpServer.close(() => resolve())) };
}

function textOf(result: unknown): string {
  return ((result as { content: { type: string; text?: string }[] }).content ?? []).map((part) => part.text ?? '').join('\n');
}

function filesIn(folder: string): string {
  return readdirSync(folder)
    .map((name) => readFileSync(join(folder, name)).toString('latin1'))
    .join('\n');
}

describe('delegated credentials and redaction', () => {
  let headerEcho: Awaited<ReturnType<typeof startHeaderEchoServer>>;
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  const secretsFolder = mkdtempSync(join(tmpdir(), 'agenttrail-secrets-'));

  beforeAll(async () => {
    headerEcho = await startHeaderEchoServer();
    writeFileSync(join(secretsFolder, 'http-token'), `${HTTP_TOKEN}\n`);
    const vault = join(secretsFolder, 'vault.mjs');
    writeFileSync(vault, `process.stdout.write(${JSON.stringify(`${VAULT_TOKEN}\n`)});\n`);
    gateway = await startGateway(
      {
        everything: startEverythingStdio(),
        echo: { url: headerEcho.url, protocol: '2025-11-25' },
      },
      {
        env: { STDIO_TOKEN_SOURCE: STDIO_TOKEN },
        credentials: {
          'stdio-token': { source: 'env:STDIO_TOKEN_SOURCE', servers: ['everything'], env: 'UPSTREAM_API_TOKEN', scope: 'everything:read' },
          'http-token': { source: `file:${join(secretsFolder, 'http-token')}`, servers: ['echo'], header: 'Authorization', format: 'Bearer {value}' },
          'vault-token': { source: { command: [process.execPath, vault] }, servers: ['everything'], env: 'VAULT_ISSUED_TOKEN', expires: '2027-01-01T00:00:00Z' },
        },
      },
    );
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
    await headerEcho?.close();
  });

  it('puts each credential where its upstream expects it, and the agent gets the upstream\'s answer unchanged', async () => {
    const env = textOf(await agent.client.callTool({ name: 'everything__get-env', arguments: {} }));
    expect(env).toContain(`"UPSTREAM_API_TOKEN": "${STDIO_TOKEN}"`);
    expect(env).toContain(`"VAULT_ISSUED_TOKEN": "${VAULT_TOKEN}"`);
    const seen = textOf(await agent.client.callTool({ name: 'echo__seen-authorization', arguments: {} }));
    expect(seen).toBe(`authorization: Bearer ${HTTP_TOKEN}`);
    const echoed = textOf(await agent.client.callTool({ name: 'everything__echo', arguments: { message: `my token is ${GITHUB_TOKEN} and ${STDIO_TOKEN}` } }));
    expect(echoed).toBe(`Echo: my token is ${GITHUB_TOKEN} and ${STDIO_TOKEN}`);
  });

  it('records each use as credential.delegated with a keyed fingerprint, and the secrets as redaction markers', async () => {
    const entries = await gateway.entries();
    const delegated = entries.filter((entry) => entry.kind === 'credential.delegated');
    const logSecret = Buffer.from(readFileSync(join(gateway.folder, 'agenttrail.secret'), 'utf8').trim(), 'base64');
    const fingerprint = (value: string): string => `hmac-sha256:${createHmac('sha256', logSecret).update(value).digest('hex')}`;

    const envCall = entries.find((entry) => entry.kind === 'tool.call' && entry.tool === 'get-env')!;
    const forEnvCall = delegated.filter((entry) => entry.call === envCall.call).map((entry) => entry.payload);
    expect(forEnvCall).toEqual([
      { credential: { name: 'stdio-token', carrier: 'env UPSTREAM_API_TOKEN', fingerprint: fingerprint(STDIO_TOKEN), scope: 'everything:read' } },
      { credential: { name: 'vault-token', carrier: 'env VAULT_ISSUED_TOKEN', fingerprint: fingerprint(VAULT_TOKEN), expires: '2027-01-01T00:00:00Z' } },
    ]);
    const headerCall = entries.find((entry) => entry.kind === 'tool.call' && entry.tool === 'seen-authorization')!;
    expect(delegated.filter((entry) => entry.call === headerCall.call).map((entry) => entry.payload)).toEqual([
      { credential: { name: 'http-token', carrier: 'header Authorization', fingerprint: fingerprint(HTTP_TOKEN) } },
    ]);
    // Written ahead of the call, like the request itself.
    expect(entries.indexOf(delegated.find((entry) => entry.call === headerCall.call)!)).toBeLessThan(
      entries.findIndex((entry) => entry.kind === 'tool.result' && entry.call === headerCall.call),
    );

    const envResult = JSON.stringify(entries.find((entry) => entry.kind === 'tool.result' && entry.call === envCall.call)!.payload);
    expect(envResult).toMatch(/UPSTREAM_API_TOKEN\\": \\"\[redacted:credential:stdio-token:[0-9a-f]{32}:[0-9a-f]{64}\]/);
    expect(envResult).toMatch(/\[redacted:credential:vault-token:/);
    const echoCall = JSON.stringify(entries.find((entry) => entry.kind === 'tool.call' && entry.tool === 'echo')!.payload);
    expect(echoCall).toMatch(/my token is \[redacted:github-token:[0-9a-f]{32}:[0-9a-f]{64}\] and \[redacted:credential:stdio-token:/);
  });

  it('keeps every secret out of the database files, the evidence export and the gateway\'s output, and the log verifies', async () => {
    const bundle = join(gateway.folder, 'evidence.jsonl');
    const exported = await runAgenttrail(['export', '--db', gateway.db, '--format', 'bundle', '--out', bundle]);
    expect(exported.code, exported.stderr).toBe(0);
    const verified = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verified.code, verified.stderr).toBe(0);
    const everything = [filesIn(gateway.folder), gateway.output().stdout, gateway.output().stderr, exported.stdout, exported.stderr].join('\n');
    expect(everything).toContain('[redacted:credential:stdio-token:');
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });
});

describe('credentials that cannot be read stop the gateway at start, naming the credential', () => {
  const cases = [
    { name: 'a missing environment variable', source: 'env:AGENTTRAIL_TEST_UNSET_VARIABLE', message: /credential "api" \(env:AGENTTRAIL_TEST_UNSET_VARIABLE\): the environment variable is not set/ },
    { name: 'a missing file', source: 'file:/nonexistent/agenttrail/token', message: /credential "api" \(file:\/nonexistent\/agenttrail\/token\): the file does not exist/ },
    {
      name: 'a failing command',
      source: { command: [process.execPath, '-e', 'process.stderr.write("vault: permission denied\\n"); process.exit(3)'] },
      message: /credential "api" \(command .*node\): the command exited with code 3 \(it said: vault: permission denied\)/,
    },
    {
      name: 'a command that hangs',
      source: { command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 300 },
      message: /credential "api" \(command .*node\): the command did not finish within 300 ms/,
    },
  ];

  it.each(cases)('$name', async ({ source, message }) => {
    const start = startGateway({ everything: startEverythingStdio() }, { credentials: { api: { source, servers: ['everything'], env: 'API_TOKEN' } } });
    await expect(start).rejects.toThrow(message);
  });

  it('a credential for an HTTP server without a header is a config error naming the field', async () => {
    const start = startGateway({ remote: { url: 'http://127.0.0.1:9/mcp' } }, { credentials: { api: { source: 'env:HOME', servers: ['remote'] } } });
    await expect(start).rejects.toThrow(/credentials\.api.*reached over HTTP: say which header carries the credential/);
  });
});
