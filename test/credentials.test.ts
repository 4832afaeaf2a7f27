import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { reportedHeaders, startCredentialEchoServer } from './support/credential-echo-server.js';
import type { CredentialEchoServer } from './support/credential-echo-server.js';
import { DEFAULT_ORIGIN, readEntries, startGateway, waitForEntries, wrapLaunch } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { everythingRecorded, keyedFingerprint } from './support/recorded-secrets.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

// Made-up secrets with real shapes; none may ever reach the database, an export or the gateway's output.
const STDIO_TOKEN = 'stdio-secret-7Hq2Lx9Pz4';
const HTTP_TOKEN = 'http-secret-3Kd8Rw1Vn6';
const VAULT_TOKEN = 'vault-secret-5Tb0Yc2Mf8';
const GITHUB_TOKEN = 'ghp_R2d9Qm4Lx7Tz0Vb8Nc6Wk1Yp3Hs5Jf2Ga9Dq';
const SECRETS = [STDIO_TOKEN, HTTP_TOKEN, VAULT_TOKEN, GITHUB_TOKEN];

const ENV_ECHO_SERVER = fileURLToPath(new URL('./fixtures/env-echo-server.mjs', import.meta.url));

function textOf(result: unknown): string {
  return ((result as { content: { type: string; text?: string }[] }).content ?? []).map((part) => part.text ?? '').join('\n');
}

describe('delegated credentials and redaction', () => {
  let echo: CredentialEchoServer;
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  const secretsFolder = mkdtempSync(join(tmpdir(), 'agenttrail-secrets-'));

  beforeAll(async () => {
    echo = await startCredentialEchoServer();
    writeFileSync(join(secretsFolder, 'http-token'), `${HTTP_TOKEN}\n`);
    const vault = join(secretsFolder, 'vault.mjs');
    writeFileSync(vault, `process.stdout.write(${JSON.stringify(`${VAULT_TOKEN}\n`)});\n`);
    gateway = await startGateway(
      {
        everything: startEverythingStdio(),
        echo: { url: echo.url, protocol: '2025-11-25' },
        leaky: { command: process.execPath, args: [ENV_ECHO_SERVER, 'UPSTREAM_API_TOKEN'] },
        broken: { command: process.execPath, args: [ENV_ECHO_SERVER, 'UPSTREAM_API_TOKEN', '--exit-at-start'] },
      },
      {
        env: { STDIO_TOKEN_SOURCE: STDIO_TOKEN },
        credentials: {
          'stdio-token': { source: 'env:STDIO_TOKEN_SOURCE', servers: ['everything', 'leaky', 'broken'], env: 'UPSTREAM_API_TOKEN', scope: 'everything:read' },
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
    await echo?.close();
  });

  it('puts each credential where its upstream expects it, and the agent gets the upstream\'s answer unchanged', async () => {
    const env = textOf(await agent.client.callTool({ name: 'everything__get-env', arguments: {} }));
    expect(env).toContain(`"UPSTREAM_API_TOKEN": "${STDIO_TOKEN}"`);
    expect(env).toContain(`"VAULT_ISSUED_TOKEN": "${VAULT_TOKEN}"`);
    expect(reportedHeaders(await agent.client.callTool({ name: 'echo__whoami', arguments: {} }))).toEqual({ authorization: `Bearer ${HTTP_TOKEN}` });
    const echoed = textOf(await agent.client.callTool({ name: 'everything__echo', arguments: { message: `my token is ${GITHUB_TOKEN} and ${STDIO_TOKEN}` } }));
    expect(echoed).toBe(`Echo: my token is ${GITHUB_TOKEN} and ${STDIO_TOKEN}`);
  });

  it('records each use as credential.delegated with a keyed fingerprint, and the secrets as redaction markers', async () => {
    const entries = await gateway.entries();
    const delegated = entries.filter((entry) => entry.kind === 'credential.delegated');
    const fingerprint = (value: string): string => keyedFingerprint(gateway.folder, value);

    const envCall = entries.find((entry) => entry.kind === 'tool.call' && entry.tool === 'get-env')!;
    const forEnvCall = delegated.filter((entry) => entry.call === envCall.call).map((entry) => entry.payload);
    expect(forEnvCall).toEqual([
      { credential: { name: 'stdio-token', carrier: 'env UPSTREAM_API_TOKEN', fingerprint: fingerprint(STDIO_TOKEN), scope: 'everything:read' } },
      { credential: { name: 'vault-token', carrier: 'env VAULT_ISSUED_TOKEN', fingerprint: fingerprint(VAULT_TOKEN), expires: '2027-01-01T00:00:00Z' } },
    ]);
    const headerCall = entries.find((entry) => entry.kind === 'tool.call' && entry.tool === 'whoami')!;
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

  it('records upstream errors and output that quote a credential with the credential redacted', async () => {
    // The agent gets each error as the upstream wrote it; only the log and the terminal are redacted.
    await expect(agent.client.callTool({ name: 'echo__fail', arguments: {} })).rejects.toThrow(HTTP_TOKEN);
    expect(textOf(await agent.client.callTool({ name: 'echo__fail-softly', arguments: {} }))).toContain(HTTP_TOKEN);
    await expect(agent.client.callTool({ name: 'echo__crash-http', arguments: {} })).rejects.toThrow(/HTTP 500|internal error/);
    await expect(agent.client.callTool({ name: 'leaky__fail', arguments: {} })).rejects.toThrow(STDIO_TOKEN);
    await expect(agent.client.callTool({ name: 'broken__fail', arguments: {} })).rejects.toThrow(/upstream server 'broken' failed to start/);
    expect((await agent.client.listTools()).tools.map((tool) => tool.name)).toContain('leaky__fail');

    const entries = await waitForEntries(gateway.entries, (all) => all.filter((entry) => entry.kind === 'tool.result' && /fail|crash/.test(entry.tool ?? '')).length === 5);
    const outcomeOf = (server: string, tool: string) => JSON.stringify(entries.find((entry) => entry.kind === 'tool.result' && entry.server === server && entry.tool === tool)!.payload);
    expect(outcomeOf('echo', 'fail')).toMatch(/Bearer \[redacted:credential:http-token:/);
    expect(outcomeOf('echo', 'fail-softly')).toMatch(/Bearer \[redacted:credential:http-token:/);
    expect(outcomeOf('echo', 'crash-http')).toMatch(/authorization=Bearer \[redacted:credential:http-token:/);
    expect(outcomeOf('leaky', 'fail')).toMatch(/with token \[redacted:credential:stdio-token:/);
    expect(outcomeOf('broken', 'fail')).toMatch(/UPSTREAM_API_TOKEN=\[redacted:credential:stdio-token:/);
    // The servers' stderr, and the gateway's own reports of what failed, reach the operator redacted.
    await waitForEntries(async () => (gateway.output().stderr.includes('connecting with UPSTREAM_API_TOKEN=[redacted:credential:stdio-token:') ? entries : []), (all) => all.length > 0);
    expect(gateway.output().stderr).toMatch(/skips upstream 'broken': .*UPSTREAM_API_TOKEN=\[redacted:credential:stdio-token:/);
  });

  it('keeps every secret out of the database files, the evidence export and the gateway\'s output, and the log verifies', async () => {
    const everything = await everythingRecorded(gateway);
    expect(everything).toContain('[redacted:credential:stdio-token:');
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });
});

describe('credentials that cannot be read stop the gateway at start, naming the credential, and are recorded', () => {
  const UNREACHABLE = { url: 'http://127.0.0.1:9/mcp' };
  const cases = [
    { name: 'a missing environment variable', source: 'env:AGENTTRAIL_TEST_UNSET_VARIABLE', shown: 'env:AGENTTRAIL_TEST_UNSET_VARIABLE', reason: /^the environment variable is not set$/ },
    { name: 'a missing file', source: 'file:/nonexistent/agenttrail/token', shown: 'file:/nonexistent/agenttrail/token', reason: /^the file does not exist$/ },
    {
      name: 'a failing command',
      source: { command: [process.execPath, '-e', 'process.stderr.write("vault: permission denied\\n"); process.exit(3)'] },
      shown: `command ${process.execPath}`,
      reason: /^the command exited with code 3 \(it said: vault: permission denied\)$/,
    },
    {
      name: 'a command that hangs',
      source: { command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 300 },
      shown: `command ${process.execPath}`,
      reason: /^the command did not finish within 300 ms$/,
    },
    {
      name: "a token exchange's missing client secret",
      source: { tokenExchange: { endpoint: 'http://127.0.0.1:9/token', clientId: 'gateway', clientSecret: 'env:AGENTTRAIL_TEST_UNSET_VARIABLE' } },
      shown: 'tokenExchange.clientSecret env:AGENTTRAIL_TEST_UNSET_VARIABLE',
      reason: /^the environment variable is not set$/,
    },
  ];

  it.each(cases)('$name', async ({ source, shown, reason }) => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-gateway-'));
    const start = startGateway({ api: UNREACHABLE }, { folder, credentials: { 'api-token': { source, servers: ['api'], header: 'Authorization' } } });
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    await expect(start).rejects.toThrow(
      new RegExp(`credential "api-token" \\(${escaped(shown)}\\): ${reason.source.slice(1, -1)}; the gateway did not start \\(recorded as entry 0 of log "${DEFAULT_ORIGIN}"\\)`),
    );
    const entries = await readEntries(`file:${join(folder, 'audit.db')}`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'credential.failed', session: 'gateway', agent: { transport: 'cli' }, payload: { credential: { name: 'api-token', source: shown } } });
    expect((entries[0]!.payload as { reason: string }).reason).toMatch(reason);
  });

  it('a credential for an HTTP server without a header is a config error naming the field', async () => {
    const start = startGateway({ remote: UNREACHABLE }, { credentials: { api: { source: 'env:HOME', servers: ['remote'] } } });
    await expect(start).rejects.toThrow(/credentials\.api.*reached over HTTP: say which header carries the credential/);
  });
});

describe('agenttrail wrap with a credential in the wrapped server\'s environment', () => {
  it('keeps the credential that the server quotes in its errors and on stderr out of the log, the export and its stderr', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-wrap-'));
    const db = `file:${join(folder, 'audit.db')}`;
    const config = join(folder, 'agenttrail.yaml');
    writeFileSync(config, JSON.stringify({ credentials: { 'api-token': { source: 'env:WRAP_SECRET', servers: ['leaky'], env: 'API_TOKEN' } } }));
    const launch = wrapLaunch({ command: process.execPath, args: [ENV_ECHO_SERVER, 'API_TOKEN'] }, db, ['--config', config, '--name', 'leaky']);
    const agent = await connectClient({ transport: 'stdio', server: { ...launch, env: { ...definedEnvironment(), WRAP_SECRET: STDIO_TOKEN } }, revision: '2025-11-25' });
    try {
      await expect(agent.client.callTool({ name: 'fail', arguments: {} })).rejects.toThrow(`cannot connect to the backend with token ${STDIO_TOKEN}`);
    } finally {
      await agent.close();
    }
    const entries = await readEntries(db);
    expect(JSON.stringify(entries.find((entry) => entry.kind === 'tool.result')!.payload)).toMatch(/with token \[redacted:credential:api-token:/);
    expect(entries.find((entry) => entry.kind === 'credential.delegated')!.payload).toMatchObject({ credential: { name: 'api-token', carrier: 'env API_TOKEN' } });
    const exported = await runAgenttrail(['export', '--db', db, '--format', 'bundle']);
    expect(exported.code, exported.stderr).toBe(0);
    const stderr = agent.serverStderr();
    expect(stderr).toMatch(/connecting with API_TOKEN=\[redacted:credential:api-token:/);
    const files = readdirSync(folder).map((name) => readFileSync(join(folder, name)).toString('latin1'));
    for (const text of [stderr, exported.stdout, ...files]) expect(text).not.toContain(STDIO_TOKEN);
  });
});

function definedEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((pair): pair is [string, string] => pair[1] !== undefined));
}
