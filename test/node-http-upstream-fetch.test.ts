// The HTTP client `agenttrail serve` and `wrap` reach Streamable HTTP upstreams with on Node
// (src/gateway/node-http-upstream-fetch.ts), in place of the global fetch: under a real SDK client
// against server-everything (SSE answers, sessions), against an SDK server that closes an answer's
// stream early (resumption), against a plain node:http server for what no MCP server does on
// purpose (redirects, cut-off bodies, requests held open), and behind the gateway, where a
// 2026-07-28 agent's cancellation reaches the upstream's tool.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { FetchLike, JSONRPCMessage } from '@modelcontextprotocol/client';
import { McpServer, WebStandardStreamableHTTPServerTransport, createMcpHandler, type EventStore } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { carriedHeaders, fetchWithCredentials } from '../src/gateway/credential-headers.js';
import { createNodeHttpUpstreamFetch } from '../src/gateway/node-http-upstream-fetch.js';
import { AGENTTRAIL_VERSION } from '../src/version.js';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { rejectionOf, textsOf, within } from './support/misbehaving-servers.js';
import { freePort, startEverythingHttp, type RunningHttpServer } from './support/upstream-servers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What an HTTP server in this process listens at, and how to stop it. */
interface Listening {
  url: URL;
  close(): Promise<void>;
}

async function listening(server: HttpServer, path: string): Promise<Listening> {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}${path}`),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('an SDK client on it, against server-everything over Streamable HTTP', () => {
  let upstream: RunningHttpServer;
  let agent: ConnectedClient;
  const fetch = createNodeHttpUpstreamFetch();

  beforeAll(async () => {
    upstream = await startEverythingHttp();
    agent = await connectClient({ transport: 'http', url: upstream.url, revision: '2025-11-25', fetch });
  });
  afterAll(async () => {
    await agent?.close();
    await upstream?.close();
  });

  test('calls answered over SSE streams, with the progress sent on the way', async () => {
    expect(await agent.client.callTool({ name: 'echo', arguments: { message: 'over node:http' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: over node:http' }],
    });
    const progress: number[] = [];
    const result = await agent.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      { onprogress: ({ progress: step }) => void progress.push(step) },
    );
    expect(textsOf(result as never)[0]).toMatch(/Long running operation completed/);
    expect(progress.slice(0, 2)).toEqual([1, 2]);
    expect(agent.errors).toEqual([]);
  });

  test('an answer that is no success reaches the caller with its status and body', async () => {
    const response = await fetch(upstream.url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'no-such-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect({ status: response.status, ok: response.ok, type: response.headers.get('content-type') }).toEqual({
      status: 400,
      ok: false,
      type: 'application/json; charset=utf-8',
    });
    expect(await response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' } });
  });
});

/** Keeps the events of every SSE stream, so that a client that reconnects with Last-Event-ID gets what it missed. */
class EventsKept implements EventStore {
  readonly #events: { id: string; stream: string; message: JSONRPCMessage }[] = [];

  storeEvent(stream: string, message: JSONRPCMessage): Promise<string> {
    const id = `${stream}:${this.#events.length}`;
    this.#events.push({ id, stream, message });
    return Promise.resolve(id);
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const after = this.#events.findIndex((event) => event.id === lastEventId);
    const stream = this.#events[after]?.stream ?? '';
    for (const event of this.#events.slice(after + 1)) if (event.stream === stream) await send(event.id, event.message);
    return stream;
  }
}

describe('an SDK client on it, against a server that ends an answer\'s stream before the answer', () => {
  let server: Listening;
  let agent: ConnectedClient;
  const requests: { method: string; lastEventId: string | undefined }[] = [];

  beforeAll(async () => {
    const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
    const mcpServer = () => {
      const mcp = new McpServer({ name: 'stream-closer', version: '1.0.0' });
      mcp.registerTool('answer-later', { inputSchema: z.object({}) }, async (_args, ctx) => {
        // The stream goes now; the answer, kept with the stream's events, comes on the resumed one.
        ctx.http?.closeSSE?.();
        await sleep(100);
        return { content: [{ type: 'text', text: 'answered on the resumed stream' }] };
      });
      return mcp;
    };
    const http = serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        requests.push({ method: request.method, lastEventId: request.headers.get('last-event-id') ?? undefined });
        const session = request.headers.get('mcp-session-id');
        if (session !== null) return sessions.get(session)?.handleRequest(request) ?? new Response('unknown session', { status: 404 });
        const transport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          eventStore: new EventsKept(),
          retryInterval: 50,
          onsessioninitialized: (id) => void sessions.set(id, transport),
        });
        await mcpServer().connect(transport);
        return transport.handleRequest(request);
      },
    }) as HttpServer;
    server = await listening(http, '/mcp');
    agent = await connectClient({ transport: 'http', url: server.url, revision: '2025-11-25', fetch: createNodeHttpUpstreamFetch() });
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  test('the answer arrives on the stream the client resumes with Last-Event-ID', async () => {
    const result = await within(10_000, 'the resumed answer', agent.client.callTool({ name: 'answer-later', arguments: {} }));
    expect(textsOf(result as never)).toEqual(['answered on the resumed stream']);
    expect(requests.some((request) => request.method === 'GET' && request.lastEventId !== undefined)).toBe(true);
  });
});

/** A node:http server with a few routes that misbehave on purpose; it keeps what each request looked like. */
function plainServer(): { server: HttpServer; seen: { path: string; connection: number; headers: IncomingHttpHeaders }[]; closedWhileHeld: () => number } {
  const seen: { path: string; connection: number; headers: IncomingHttpHeaders }[] = [];
  const connections = new WeakMap<Socket, number>();
  let held = 0;
  const server = createServer((request, response) => {
    const path = request.url ?? '';
    seen.push({ path, connection: connections.get(request.socket) ?? -1, headers: request.headers });
    if (path === '/hello') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`hello, ${request.method}`);
    } else if (path === '/moved') {
      response.writeHead(307, { location: '/hello' }).end();
    } else if (path === '/cut-off') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"jsonrpc":"2.0","resu');
      setTimeout(() => request.socket.destroy(), 20);
    } else if (path === '/held') {
      request.socket.once('close', () => (held += 1));
    } else {
      response.writeHead(404).end();
    }
  });
  let count = 0;
  server.on('connection', (socket) => connections.set(socket, (count += 1)));
  server.listen(0, '127.0.0.1');
  return { server, seen, closedWhileHeld: () => held };
}

describe('it, against a plain HTTP server', () => {
  let plain: ReturnType<typeof plainServer>;
  let server: Listening;
  const fetch = createNodeHttpUpstreamFetch();
  const at = (path: string) => new URL(path, server.url);

  beforeAll(async () => {
    plain = plainServer();
    server = await listening(plain.server, '/');
  });
  afterAll(async () => {
    await server?.close();
  });

  test('requests one after another share one kept-alive connection and say who sends them', async () => {
    const before = plain.seen.length;
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await fetch(at('/hello'), { method, redirect: 'manual', ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(await response.text()).toBe(`hello, ${method}`);
    }
    const requests = plain.seen.slice(before);
    expect(new Set(requests.map((request) => request.connection)).size).toBe(1);
    for (const request of requests) expect(request.headers['user-agent']).toBe(`agenttrail/${AGENTTRAIL_VERSION}`);
  });

  test('a redirect is handed back to the caller, not followed', async () => {
    const response = await fetch(at('/moved'), { method: 'POST', redirect: 'manual', body: '{}' });
    expect({ status: response.status, location: response.headers.get('location'), url: response.url }).toEqual({
      status: 307,
      location: '/hello',
      url: at('/moved').href,
    });
  });

  test('a body cut off before its end fails the request', async () => {
    const error = await rejectionOf(fetch(at('/cut-off'), { method: 'POST', redirect: 'manual', body: '{}' }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('terminated');
  });

  test('a refused connection fails as fetch does: "fetch failed", its cause naming the address', async () => {
    const port = await freePort();
    const error = await rejectionOf(fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', redirect: 'manual', body: '{}' }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(((error as TypeError).cause as Error).message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  test('aborting a signal ends every request that waits on it, on the wire, with its reason', async () => {
    const shared = new AbortController();
    const held = [1, 2, 3].map(() => rejectionOf(fetch(at('/held'), { method: 'POST', redirect: 'manual', body: '{}', signal: shared.signal })));
    while (plain.seen.filter((request) => request.path === '/held').length < 3) await sleep(10);
    const closedBefore = plain.closedWhileHeld();
    shared.abort(new Error('the transport closed'));
    for (const error of await Promise.all(held)) expect((error as Error).message).toBe('the transport closed');
    await within(5_000, 'the held requests closed on the server', (async () => {
      while (plain.closedWhileHeld() < closedBefore + 3) await sleep(10);
    })());
  });

  test('sends a call\'s carried credentials under their real names, over the standing ones, and nothing under the carrier\'s prefix', async () => {
    const withCredentials: FetchLike = fetchWithCredentials(fetch, () => ({ Authorization: 'Bearer standing', 'X-Standing-Key': 'standing-key' }));
    const headers = new Headers({ accept: 'text/plain', ...carriedHeaders({ Authorization: 'Bearer for-this-call' }) });
    const before = plain.seen.length;
    await (await withCredentials(at('/hello'), { method: 'POST', redirect: 'manual', headers, body: '{}' })).text();
    const sent = plain.seen[before]!.headers;
    expect({ authorization: sent.authorization, standing: sent['x-standing-key'], accept: sent.accept }).toEqual({
      authorization: 'Bearer for-this-call',
      standing: 'standing-key',
      accept: 'text/plain',
    });
    expect(Object.keys(sent).filter((name) => name.startsWith('x-agenttrail-'))).toEqual([]);
  });
});

describe('behind agenttrail serve, a 2026-07-28 agent and a 2026-07-28 HTTP upstream', () => {
  let upstream: Listening;
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  const toolSaw: string[] = [];

  beforeAll(async () => {
    const handler = createMcpHandler(
      () => {
        const mcp = new McpServer({ name: 'waiter', version: '1.0.0' });
        mcp.registerTool('wait', { inputSchema: z.object({}) }, (_args, ctx) => {
          toolSaw.push('started');
          return new Promise((resolve) => {
            ctx.mcpReq.signal.addEventListener('abort', () => {
              toolSaw.push('cancelled');
              resolve({ content: [{ type: 'text', text: 'cancelled' }] });
            });
            setTimeout(() => resolve({ content: [{ type: 'text', text: 'waited 10 s' }] }), 10_000);
          });
        });
        return mcp;
      },
      { legacy: 'reject' },
    );
    upstream = await listening(serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => handler.fetch(request) }) as HttpServer, '/mcp');
    gateway = await startGateway({ waiter: { url: upstream.url.href, protocol: '2026-07-28' } });
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' });
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
    await upstream?.close();
  });

  test('the agent cancelling a call ends its request upstream, and the upstream\'s tool sees the cancellation', async () => {
    const cancel = new AbortController();
    const call = rejectionOf(agent.client.callTool({ name: 'waiter__wait', arguments: {} }, { signal: cancel.signal }));
    while (!toolSaw.includes('started')) await sleep(10);
    cancel.abort('the agent gave up');
    expect(((await call) as Error).message).toBe('the agent gave up');
    await within(5_000, 'the upstream tool to see the cancellation', (async () => {
      while (!toolSaw.includes('cancelled')) await sleep(10);
    })());
  });
});
