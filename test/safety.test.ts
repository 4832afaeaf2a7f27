// Issue 2, point 8: what keeps a local gateway safe to run. It listens on loopback only unless told
// otherwise, refuses requests whose Host or Origin betray DNS rebinding (unless allowed in the
// config), shuts down on SIGTERM/SIGINT without losing a call in flight, and tells 2024-11-05
// HTTP+SSE clients that it does not speak their transport instead of leaving them hanging.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { AGENTTRAIL_BIN, readEntries, startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { MCP_POST_HEADERS, misbehavingServer, rawHttp, receivedCalls, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-http-agent', version: '1.0.0' } },
});

const ErrorBody = z.object({ jsonrpc: z.literal('2.0'), error: z.object({ code: z.number(), message: z.string() }) });
const errorMessageOf = (body: string): string => ErrorBody.parse(JSON.parse(body)).error.message;

/** Local addresses of listening TCP sockets on `port`, from /proc/net/tcp and /proc/net/tcp6. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local === undefined || state !== '0A') continue; // 0A: LISTEN
      const [address, localPort] = local.split(':');
      if (localPort === hexPort && address !== undefined) addresses.push(address);
    }
  }
  return addresses;
}

/** Resolves once the fixture server(s) writing to `callsFile` received `count` calls of `tool`. */
async function untilReceived(callsFile: string, tool: string, count = 1): Promise<void> {
  while (receivedCalls(callsFile).filter((name) => name === tool).length < count) await new Promise((r) => setTimeout(r, 20));
}

function connects(host: string, port: number): Promise<boolean | string> {
  return new Promise((resolveConnect) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolveConnect('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolveConnect(error.code ?? error.message));
  });
}

describe('a gateway with the default listen settings', () => {
  let gateway: RunningGateway;
  let port: number;

  beforeAll(async () => {
    gateway = await startGateway({ fixture: misbehavingServer() });
    port = Number(new URL(gateway.url).port);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('binds 127.0.0.1 only: the printed URL, the socket table, and a non-loopback address of this machine', async () => {
    expect(gateway.url).toBe(`http://127.0.0.1:${port}/mcp`);
    expect(listeningAddresses(port)).toEqual(['0100007F']);
    expect(await connects('127.0.0.1', port)).toBe(true);
    const outside = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal && address.family === 'IPv4');
    for (const address of outside) {
      expect(await connects(address!.address, port), `connecting to ${address!.address}:${port}`).toBe('ECONNREFUSED');
    }
  });

  test.each([
    ['a foreign name', 'evil.example'],
    ['a foreign name with the port', 'evil.example:PORT'],
    ['a name that merely starts like localhost', 'localhost.evil.example:PORT'],
    ['a non-loopback address', '192.0.2.99:PORT'],
  ])('a Host header with %s gets 403 and a message saying how to allow it', async (_what, hostTemplate) => {
    const host = hostTemplate.replace('PORT', String(port));
    const response = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, host }, body: INITIALIZE });
    expect(response.status).toBe(403);
    expect(errorMessageOf(response.body)).toBe(`Host header '${host}' is not allowed: add it to listen.allowedHosts to accept it`);
    expect(response.headers['mcp-session-id']).toBeUndefined();
  });

  test.each([
    ['a foreign web page', 'http://evil.example'],
    ['a foreign page on the same port', 'http://evil.example:PORT'],
    ['a page whose origin is null (sandboxed frame, file:)', 'null'],
  ])('an Origin from %s gets 403 and a message saying how to allow it', async (_what, originTemplate) => {
    const origin = originTemplate.replace('PORT', String(port));
    const response = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, origin }, body: INITIALIZE });
    expect(response.status).toBe(403);
    expect(errorMessageOf(response.body)).toBe(`Origin '${origin}' is not allowed: add it to listen.allowedOrigins to accept it`);
  });

  test('loopback Host and Origin values are accepted', async () => {
    const loopback: Record<string, string>[] = [{ host: `localhost:${port}` }, { host: `127.0.0.1:${port}`, origin: `http://localhost:${port}` }, { host: `[::1]:${port}` }];
    for (const headers of loopback) {
      const response = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, ...headers }, body: INITIALIZE });
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(response.headers['mcp-session-id']).toEqual(expect.any(String));
    }
  });

  test('a 2024-11-05 HTTP+SSE client: GET on the endpoint and GET /sse get an error at once, not a stream that never speaks', async () => {
    const onEndpoint = await rawHttp(gateway.url, { headers: { accept: 'text/event-stream' }, timeoutMs: 3_000 });
    expect(onEndpoint.status).toBe(405);
    expect(errorMessageOf(onEndpoint.body)).toMatch(/2024-11-05 HTTP\+SSE transport is not supported/);

    const sseUrl = new URL('/sse', gateway.url).href;
    const onSse = await rawHttp(sseUrl, { headers: { accept: 'text/event-stream' }, timeoutMs: 3_000 });
    expect(onSse.status).toBe(404);
    expect(errorMessageOf(onSse.body)).toBe('the 2024-11-05 HTTP+SSE transport is not supported: connect with Streamable HTTP to /mcp');

    // And what the user of such a client sees: the connect fails quickly with that message.
    for (const url of [sseUrl, gateway.url]) {
      const error = await within(5_000, `an SSE client connecting to ${url}`, rejectionOf(connectClient({ transport: 'sse', url, revision: '2025-11-25', connectTimeoutMs: 4_000 })));
      expect(error.message, url).toMatch(/40[45]/);
    }
  });
});

describe('a gateway told to accept more hosts and origins', () => {
  let gateway: RunningGateway;
  let port: number;

  beforeAll(async () => {
    gateway = await startGateway(
      { fixture: misbehavingServer() },
      { listen: { allowedHosts: ['gateway.internal', 'mcp.example.com:8443'], allowedOrigins: ['https://app.example'] } },
    );
    port = Number(new URL(gateway.url).port);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('listen.allowedHosts: those Host headers are served, others still refused', async () => {
    for (const host of [`gateway.internal:${port}`, 'gateway.internal', 'mcp.example.com:8443']) {
      const response = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, host }, body: INITIALIZE });
      expect(response.status, host).toBe(200);
      expect(response.body).toContain('"serverInfo":{"name":"agenttrail"');
    }
    const refused = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, host: 'other.internal' }, body: INITIALIZE });
    expect(refused.status).toBe(403);
  });

  test('listen.allowedOrigins: that origin is served, others still refused', async () => {
    const allowed = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, origin: 'https://app.example' }, body: INITIALIZE });
    expect(allowed.status).toBe(200);
    for (const origin of ['https://app.example.evil', 'http://app.example', 'https://other.example']) {
      const refused = await rawHttp(gateway.url, { method: 'POST', headers: { ...MCP_POST_HEADERS, origin }, body: INITIALIZE });
      expect(refused.status, origin).toBe(403);
    }
  });

  test('an SDK client whose requests carry an allowed Host works end to end', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', headers: { origin: 'https://app.example' } });
    try {
      const result = await agent.client.callTool({ name: 'fixture__ok', arguments: { message: 'from the app' } });
      expect(textsOf(result as never)[0]).toMatch(/^ok: from the app/);
    } finally {
      await agent.close();
    }
  });
});

describe.each(['SIGTERM', 'SIGINT'] as const)('%s while calls are in flight', (signal) => {
  const SLOW_MS = 1_500;

  test('the calls complete, the process exits 0, and every tool.call has its tool.result', async () => {
    const callsFile = join(mkdtempSync(join(tmpdir(), 'agenttrail-calls-')), 'calls.txt');
    const gateway = await startGateway({ fixture: misbehavingServer({ callsFile }) });
    const agents: ConnectedClient[] = await Promise.all([
      connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' }),
      connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' }),
    ]);
    try {
      const calls = agents.map((agent) => agent.client.callTool({ name: 'fixture__slow', arguments: { ms: SLOW_MS } }));
      // Keep the outcomes without an unhandled rejection while the signal goes out.
      const settled = Promise.allSettled(calls);
      await waitForEntries(gateway.entries, (entries) => entries.filter((entry) => entry.kind === 'tool.call').length === 2);
      await within(5_000, 'the upstreams receiving both calls', untilReceived(callsFile, 'slow', 2));

      const exited = gateway.stop(signal);
      const outcomes = await within(SLOW_MS + 5_000, 'the calls in flight', settled);
      for (const outcome of outcomes) {
        expect(outcome.status === 'fulfilled' ? textsOf(outcome.value as never)[0] : String(outcome.reason)).toBe(`slow: done after ${SLOW_MS} ms`);
      }
      expect(await within(10_000, `agenttrail serve exiting after ${signal}`, exited)).toBe(0);
      expect(gateway.output().stderr).toContain('shutting down; finishing in-flight calls and log writes');

      const entries = await readEntries(gateway.db);
      const recordedCalls = entries.filter((entry) => entry.kind === 'tool.call');
      expect(recordedCalls).toHaveLength(2);
      for (const call of recordedCalls) {
        const result: Entry | undefined = entries.find((entry) => entry.kind === 'tool.result' && entry.call === call.call);
        expect(result, `tool.result of ${call.call}`).toMatchObject({ outcome: 'ok' });
      }
      expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, position) => position));
    } finally {
      await Promise.all(agents.map((agent) => agent.close().catch(() => undefined)));
      await gateway.stop('SIGKILL');
    }
  });
});

describe('Ctrl-C in the terminal that runs agenttrail serve', () => {
  // The terminal sends SIGINT to the whole foreground process group: the gateway AND the stdio
  // servers it started. The upstream may die before it answers; the agent must then get an error,
  // and the log must still close every call with an outcome.
  test('the process group gets SIGINT mid-call: the agent gets an answer, the gateway exits 0, every call has an outcome', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-ctrl-c-'));
    const db = `file:${join(folder, 'audit.db')}`;
    const configFile = join(folder, 'agenttrail.yaml');
    const callsFile = join(folder, 'calls.txt');
    writeFileSync(configFile, JSON.stringify({ log: { db }, listen: { port: 0 }, auth: { unauthenticated: 'loopback' }, servers: { fixture: misbehavingServer({ callsFile }) } }));
    // Its own process group, as a shell gives a foreground job, so the signal reaches only it and its children.
    const child = spawn(process.execPath, [AGENTTRAIL_BIN, 'serve', '--config', configFile], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    let agent: ConnectedClient | undefined;
    try {
      const url = await within(15_000, 'agenttrail serve starting', (async () => {
        for (;;) {
          const match = /serving MCP at (http\S+)/.exec(stdout);
          if (match?.[1]) return match[1];
          if (child.exitCode !== null) throw new Error(`agenttrail serve exited with ${child.exitCode}: ${stderr}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      })());
      agent = await connectClient({ transport: 'http', url, revision: '2025-11-25' });
      // A first call starts the upstream, so that the signal finds the slow call inside it.
      await agent.client.callTool({ name: 'fixture__ok', arguments: {} });
      const call = agent.client.callTool({ name: 'fixture__slow', arguments: { ms: 1_500 } }).then(
        (result) => textsOf(result as never)[0],
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      await within(5_000, 'the upstream receiving the slow call', untilReceived(callsFile, 'slow'));

      process.kill(-child.pid!, 'SIGINT');
      const answer = await within(6_000, 'the answer to the call in flight', call);
      expect(answer).toMatch(/^slow: done after 1500 ms$|upstream server 'fixture'/);
      expect(await within(10_000, 'agenttrail serve exiting after Ctrl-C', exited)).toBe(0);

      const entries = await readEntries(db);
      const calls = entries.filter((entry) => entry.kind === 'tool.call');
      expect(calls.map((entry) => entry.tool)).toEqual(['ok', 'slow']);
      for (const recorded of calls) {
        expect(entries.find((entry) => entry.kind === 'tool.result' && entry.call === recorded.call)?.outcome).toMatch(/^(ok|error)$/);
      }
    } finally {
      await agent?.close().catch(() => undefined);
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
