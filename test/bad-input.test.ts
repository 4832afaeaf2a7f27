// Issue 2, point 7, the agent side: what a real `agenttrail serve` answers to requests it cannot
// serve (bodies that are not JSON-RPC, unknown methods and tools, bodies over the limit), to agents
// that vanish in the middle of a call, and to a config file it cannot use. Each test checks what the
// agent or the operator sees and that the gateway goes on serving with its log intact.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient, type ConnectedClient, REVISIONS } from './support/clients.js';
import { AGENTTRAIL_BIN, startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { hasResultFor, lastCall, MCP_POST_HEADERS, misbehavingServer, rawHttp, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';

const MAX_BODY_BYTES = 2_048;
const repo = resolve(import.meta.dirname, '..');

const JsonRpcErrorBody = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number(), z.null()]),
  error: z.object({ code: z.number(), message: z.string() }) });

function jsonRpcError(body: string): z.infer<typeof JsonRpcErrorBody>['error'] {
  return JsonRpcErrorBody.parse(JSON.parse(body)).error;
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-http-agent', version: '1.0.0' } } });

/** A 2025-11-25 session opened by hand, for requests an SDK client would never send. */
async function openRawSession(url: string): Promise<string> {
  const response = await rawHttp(url, { method: 'POST', headers: MCP_POST_HEADERS, body: INITIALIZE });
  expect(response.status).toBe(200);
  const sessionId = response.headers['mcp-session-id'];
  if (typeof sessionId !== 'string') throw new Error(`initialize gave no Mcp-Session-Id: ${response.status} ${response.body}`);
  const initialized = await rawHttp(url, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(initialized.status).toBe(202);
  return sessionId;
}

async function okText(agent: ConnectedClient, message = 'still serving'): Promise<string | undefined> {
  const result = await agent.client.callTool({ name: 'fixture__ok', arguments: { message } });
  return textsOf(result as never)[0];
}

let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway({ fixture: misbehavingServer(), other: misbehavingServer() }, { listen: { maxBodyBytes: MAX_BODY_BYTES } });
});

afterAll(async () => {
  await gateway?.stop();
});

describe('HTTP bodies that are not JSON-RPC', () => {
  test('a body that is not JSON gets 400 and a JSON-RPC parse error; the gateway goes on serving', async () => {
    const response = await rawHttp(gateway.url, { method: 'POST', headers: MCP_POST_HEADERS, body: '{"jsonrpc":"2.0","id":1,"method":' });
    expect(response.status).toBe(400);
    expect(jsonRpcError(response.body)).toEqual({ code: -32700, message: expect.stringMatching(/Parse error/) });

    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
    try {
      expect(await okText(agent)).toMatch(/^ok: still serving/);
    } finally {
      await agent.close();
    }
  });

  test.each([
    ['an object without jsonrpc/method', '{"hello":"world"}'],
    ['a JSON string', '"tools/call"'],
    ['a batch of numbers', '[1,2,3]'],
  ])('%s gets 400 and an invalid-request error that says so', async (_what, body) => {
    const response = await rawHttp(gateway.url, { method: 'POST', headers: MCP_POST_HEADERS, body });
    expect(response.status).toBe(400);
    const error = jsonRpcError(response.body);
    expect(error.code).toBe(-32600);
    expect(error.message).toMatch(/not a valid JSON-RPC message|contains an invalid message/);
  });

  test('inside an open session, a malformed POST is refused and the session stays usable', async () => {
    const sessionId = await openRawSession(gateway.url);
    const headers = { ...MCP_POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };

    const notJson = await rawHttp(gateway.url, { method: 'POST', headers, body: 'tools/call please' });
    expect(notJson.status).toBe(400);
    expect(jsonRpcError(notJson.body).code).toBe(-32700);
    const notRpc = await rawHttp(gateway.url, { method: 'POST', headers, body: '{"tool":"fixture__ok"}' });
    expect(notRpc.status).toBe(400);
    // The SDK's session transport reports this one as a parse error (-32700), the stateless path as
    // an invalid request (-32600); both say what is wrong.
    expect(jsonRpcError(notRpc.body).message).toMatch(/invalid JSON-RPC message/i);

    const call = await rawHttp(gateway.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fixture__ok', arguments: { message: 'same session' } } }) });
    expect(call.status).toBe(200);
    expect(call.body).toContain('ok: same session');
  });
});

describe.each(REVISIONS)('requests a %s agent may get wrong', (revision) => {
  let agent: ConnectedClient;

  beforeAll(async () => {
    agent = await connectClient({ transport: 'http', url: gateway.url, revision });
  });

  afterAll(async () => {
    await agent?.close();
  });

  test('an unknown method gets method-not-found (-32601)', async () => {
    const error = await rejectionOf(agent.client.request({ method: 'tools/frobnicate', params: {} } as never, z.unknown()));
    // A 2025 session answers in the JSON-RPC stream; a stateless 2026 request gets the error as
    // the HTTP response, which the SDK reports with the body it received.
    if (error instanceof ProtocolError) expect(error.code).toBe(-32601);
    else expect(error.message).toContain('"code":-32601');
    expect(error.message).toContain('Method not found');
    expect(await okText(agent)).toMatch(/^ok: still serving/);
  });

  test('a tool name without the server prefix: the error names the form and the valid servers', async () => {
    const error = await rejectionOf(agent.client.callTool({ name: 'ok', arguments: {} }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(-32602);
    expect(error.message).toContain("unknown tool 'ok'");
    expect(error.message).toContain('<server>__<tool>');
    expect(error.message).toContain('servers: fixture, other');
  });

  test('a tool name with an unknown server prefix: the error names that server and the valid ones', async () => {
    const error = await rejectionOf(agent.client.callTool({ name: 'nosuch__ok', arguments: {} }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(-32602);
    expect(error.message).toContain("there is no upstream server 'nosuch'");
    expect(error.message).toContain('servers: fixture, other');
    expect(await okText(agent)).toMatch(/^ok: still serving/);
  });

  test('a tool the upstream does not have: the error names the tool as the agent called it, and the log keeps it', async () => {
    const error = await rejectionOf(agent.client.callTool({ name: 'fixture__nope', arguments: {} }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(-32602);
    expect(error.message).toBe("unknown tool 'fixture__nope': upstream server 'fixture' has no tool 'nope' (it answered: MCP error -32602: Tool nope not found)");
    expect(await okText(agent)).toMatch(/^ok: still serving/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__nope'));
    expect(lastCall(entries, 'fixture__nope')).toMatchObject({
      call: { server: 'fixture', tool: 'nope', name: 'fixture__nope' },
      result: { outcome: 'error', payload: { error: { code: -32602, message: error.message } } },
    });
  });

  test(`a request body over listen.maxBodyBytes (${MAX_BODY_BYTES}) is refused naming the limit; smaller calls go on`, async () => {
    const before = (await gateway.entries()).length;
    const error = await rejectionOf(agent.client.callTool({ name: 'fixture__ok', arguments: { message: 'x'.repeat(MAX_BODY_BYTES) } }));
    expect(error.message).toContain(`request body is larger than ${MAX_BODY_BYTES} bytes (listen.maxBodyBytes)`);
    expect(await okText(agent, 'small')).toMatch(/^ok: small/);
    // The refused body never became a call.
    const entries = await gateway.entries();
    expect(entries.slice(before).filter((entry) => entry.kind === 'tool.call').map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message)).toEqual(['small']);
  });
});

describe('request bodies over the limit, raw', () => {
  test('with Content-Length: 413 and a JSON-RPC error naming the limit and the setting', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fixture__ok', arguments: { message: 'y'.repeat(MAX_BODY_BYTES) } } });
    const response = await rawHttp(gateway.url, { method: 'POST', headers: MCP_POST_HEADERS, body });
    expect(response.status).toBe(413);
    expect(jsonRpcError(response.body).message).toBe(`request body is larger than ${MAX_BODY_BYTES} bytes (listen.maxBodyBytes)`);
  });

  test('chunked, without Content-Length: 413 as well, not a buffered upload', async () => {
    const response = await rawHttp(gateway.url, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'transfer-encoding': 'chunked' },
      body: 'z'.repeat(4 * MAX_BODY_BYTES) });
    expect(response.headers['content-length']).not.toBe(String(4 * MAX_BODY_BYTES));
    expect(response.status).toBe(413);
    expect(jsonRpcError(response.body).message).toContain(`larger than ${MAX_BODY_BYTES} bytes`);
  });
});

describe('an agent that goes away in the middle of a call', () => {
  const hasCall = (message: string) => (entries: Entry[]) =>
    entries.some((entry) => entry.kind === 'tool.call' && JSON.stringify(entry.payload).includes(message));

  test('an aborted HTTP request: other agents are served meanwhile and the call stays in the log', async () => {
    const sessionId = await openRawSession(gateway.url);
    const aborted = new AbortController();
    const pending = fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'fixture__slow', arguments: { ms: 1_500 } } }),
      signal: aborted.signal }).then((response) => response.text());
    await waitForEntries(gateway.entries, (entries) => entries.some((entry) => entry.kind === 'tool.call' && entry.session === sessionId));
    aborted.abort(new Error('the agent went away'));
    await expect(pending).rejects.toThrow();

    const other = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' });
    try {
      expect(await within(1_000, 'a call while the aborted one is still running upstream', okText(other, 'meanwhile'))).toMatch(/^ok: meanwhile/);
      const entries = await waitForEntries(
        gateway.entries,
        (all) => all.some((entry) => entry.kind === 'tool.result' && entry.session === sessionId),
        5_000,
      );
      const call = entries.find((entry) => entry.kind === 'tool.call' && entry.session === sessionId);
      const outcome = entries.find((entry) => entry.kind === 'tool.result' && entry.call === call?.call);
      expect(call).toMatchObject({ name: 'fixture__slow', server: 'fixture', tool: 'slow' });
      expect(['ok', 'cancelled']).toContain(outcome?.outcome);
      expect(await okText(other, 'afterwards')).toMatch(/^ok: afterwards/);
    } finally {
      await other.close();
    }
  });

  test('a killed agent process: the gateway keeps serving other sessions and the entries remain', async () => {
    const marker = `killed-agent-${process.pid}-${Date.now()}`;
    const script = `
      import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
      const client = new Client({ name: 'doomed-agent', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
      await client.connect(new StreamableHTTPClientTransport(new URL(${JSON.stringify(gateway.url)})));
      await client.callTool({ name: 'fixture__slow', arguments: { ms: 1500, note: ${JSON.stringify(marker)} } });
    `;
    const doomed = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let doomedStderr = '';
    doomed.stderr.on('data', (chunk: Buffer) => (doomedStderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) => doomed.once('exit', (_code, signal) => resolveExit(signal)));
    try {
      await waitForEntries(gateway.entries, hasCall(marker), 10_000);
    } catch (error) {
      throw new Error(`the agent process never made its call: ${doomedStderr}`, { cause: error });
    }
    doomed.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const other = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
    try {
      expect(await within(1_000, 'a call right after the agent was killed', okText(other, 'next agent'))).toMatch(/^ok: next agent/);
    } finally {
      await other.close();
    }
    const entries = await waitForEntries(
      gateway.entries,
      (all) => {
        const call = all.find((entry) => entry.kind === 'tool.call' && JSON.stringify(entry.payload).includes(marker));
        return all.some((entry) => entry.kind === 'tool.result' && entry.call === call?.call);
      },
      5_000,
    );
    const call = entries.find((entry) => entry.kind === 'tool.call' && JSON.stringify(entry.payload).includes(marker))!;
    expect(call).toMatchObject({ name: 'fixture__slow', agent: { client: { name: 'doomed-agent' } } });
    expect(entries.some((entry) => entry.kind === 'session.start' && entry.session === call.session)).toBe(true);
  });
});

describe('agenttrail serve with a config file it cannot use', () => {
  const run = promisify(execFile);

  async function serveWith(fileName: string, lines: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-bad-config-'));
    writeFileSync(join(folder, fileName), lines.join('\n'));
    try {
      const { stdout, stderr } = await run(process.execPath, [AGENTTRAIL_BIN, 'serve', '--config', fileName], { cwd: folder, timeout: 10_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  const fixtureLine = `  fixture: { command: ${JSON.stringify(process.execPath)}, args: [] }`;

  test.each([
    {
      what: 'a field of the wrong type',
      lines: ['log:', '  db: "file:audit.db"', 'servers:', fixtureLine, '  slow:', `    command: ${JSON.stringify(process.execPath)}`, '    timeoutMs: soon'],
      expected: /^agenttrail: bad\.yaml:7:\d+: servers\.slow\.timeoutMs: expected a positive integer/ },
    {
      what: 'a misspelt key',
      lines: ['listen:', '  port: 0', '  maxBodyByte: 1000', 'servers:', fixtureLine],
      expected: /^agenttrail: bad\.yaml:3:\d+: listen\.maxBodyByte: .*maxBodyBytes/ },
    {
      what: 'a listen.maxBodyBytes that is not a positive integer',
      lines: ['servers:', fixtureLine, 'listen:', '  maxBodyBytes: -5'],
      expected: /^agenttrail: bad\.yaml:4:\d+: listen\.maxBodyBytes: expected a positive integer/ },
    {
      what: 'broken YAML',
      lines: ['servers:', fixtureLine, '  other: { command: node', 'listen: {}'],
      expected: /^agenttrail: bad\.yaml:\d+:\d+: invalid YAML: / },
  ])('$what: exit 2 and one stderr line with file:line, the field and the problem', async ({ lines, expected }) => {
    const result = await serveWith('bad.yaml', lines);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(expected);
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
