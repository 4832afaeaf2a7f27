// Issue 8, point 4: an agent that opens its stream and never reads it. A 2025-11-25 agent (raw
// HTTP, so that nothing reads for it) opens its session's GET stream and pauses it; its upstream
// then sends 64 MiB of log messages, which belong on that stream, again and again. The gateway's
// memory (the RSS of its process) stays flat: what the agent does not read is not queued for it
// without limit. Another agent's calls go on working all the while.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { MCP_POST_HEADERS, misbehavingServer, rawHttp, textsOf } from './support/misbehaving-servers.js';

const FLOOD = { count: 2048, bytes: 32 * 1024 };
const MiB = 1024 * 1024;
// The first floods size the gateway's heap for the work of passing 64 MiB on (measured: two).
const WARM_UP_FLOODS = 2;
const MEASURED_FLOODS = 4;
// Unbounded, every flood stays queued whole: 64 MiB and more each, 256 MiB in all (measured: 118
// MiB a flood). Bounded, each unread stream holds at most UNREAD_BYTES_LIMIT (4 MiB) while its
// agent keeps it open, 16 MiB in all; the rest is the heap's give and take (measured: ±40 MiB).
const RSS_GROWTH_LIMIT = 64 * MiB;

/** The resident memory of a process, from /proc (Linux). */
function residentBytes(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/** A 2025-11-25 session opened by hand: initialize, then initialized. Returns its headers. */
async function openSession(url: string): Promise<Record<string, string>> {
  const initialize = await rawHttp(url, {
    method: 'POST',
    headers: MCP_POST_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slow-reader', version: '1.0.0' } },
    }),
  });
  const session = initialize.headers['mcp-session-id'];
  if (typeof session !== 'string') throw new Error(`no session: ${initialize.status} ${initialize.body}`);
  const headers = { ...MCP_POST_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
  await rawHttp(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return headers;
}

/**
 * Opens the session's GET stream and never reads from it; resolves once its headers came. Undefined
 * when the session's stream opened before is still open (409): that one still takes the messages.
 */
function openUnreadStream(url: string, headers: Record<string, string>): Promise<ClientRequest | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode === 409) {
        response.resume();
        resolve(undefined);
        return;
      }
      if (response.statusCode !== 200) reject(new Error(`GET stream answered ${response.statusCode}`));
      // Paused before the first chunk: the socket is never read, so its buffers fill and stay full.
      response.pause();
      resolve(request);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('a 2025-11-25 agent that never reads its GET stream while its upstream floods it', () => {
  let gateway: RunningGateway;
  let other: ConnectedClient;
  const streams: ClientRequest[] = [];

  beforeAll(async () => {
    gateway = await startGateway({ fixture: misbehavingServer() });
    other = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' });
  });

  afterAll(async () => {
    for (const stream of streams) stream.destroy();
    await other?.close();
    await gateway?.stop();
  });

  const say = async (message: string) => textsOf((await other.client.callTool({ name: 'fixture__ok', arguments: { message } })) as never)[0];

  test('what it does not read is not queued without bound: the gateway stays flat over floods, and other agents are served', async () => {
    const headers = await openSession(gateway.url);
    let id = 1;
    /** Opens a GET stream that is never read (again, as a client does once one ended), has the upstream flood the session, while another agent calls. */
    const floodUnread = async (): Promise<void> => {
      const stream = await openUnreadStream(gateway.url, headers);
      if (stream !== undefined) streams.push(stream);
      const flood = rawHttp(gateway.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'fixture__flood', arguments: FLOOD } }),
        timeoutMs: 60_000,
      });
      expect(await say('during')).toMatch(/^ok: during/);
      expect((await flood).body).toContain(`flood: sent ${FLOOD.count}`);
      expect(await say('after')).toMatch(/^ok: after/);
    };

    for (let round = 0; round < WARM_UP_FLOODS; round++) await floodUnread();
    const pid = gateway.process.pid!;
    const settled = residentBytes(pid);
    for (let round = 0; round < MEASURED_FLOODS; round++) await floodUnread();
    expect(residentBytes(pid) - settled).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(gateway.process.exitCode).toBeNull();
  }, 90_000);
});
