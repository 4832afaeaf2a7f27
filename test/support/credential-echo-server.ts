// An HTTP MCP upstream (Streamable HTTP, stateless, on loopback) that shows what credentials reach
// it: its tools answer with the credential headers of the request that called them, some of them
// in an error, and it keeps every request it received so a test can see what went upstream.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ProtocolError, ProtocolErrorCode, Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';

/** The headers this server reports: where the tests put credentials. */
const WATCHED_HEADERS = ['authorization', 'x-audit-key'] as const;

export interface SeenRequest {
  method: string;
  tool?: string | undefined;
  headers: Partial<Record<(typeof WATCHED_HEADERS)[number], string>>;
}

export interface CredentialEchoServer {
  /** The MCP endpoint. */
  url: string;
  /** Every JSON-RPC request that arrived, in order. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

const TOOLS = [
  ['whoami', 'the credential headers of this request'],
  ['repo-read', 'the same, as a tool a credential can be limited to'],
  ['repo-write', 'the same, as another such tool'],
  ['fail', 'fails with a JSON-RPC error that quotes the Authorization header'],
  ['fail-softly', 'answers a tool error that quotes the Authorization header'],
  ['crash-http', 'answers HTTP 500 with a body that quotes the Authorization header'],
].map(([name, description]) => ({ name: name!, description: description!, inputSchema: { type: 'object' as const } }));

export async function startCredentialEchoServer(): Promise<CredentialEchoServer> {
  const seen: SeenRequest[] = [];
  const httpServer = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      const headers = Object.fromEntries(WATCHED_HEADERS.flatMap((name) => (request.headers.has(name) ? [[name, request.headers.get(name)!]] : [])));
      const body = request.method === 'POST' ? ((await request.clone().json()) as { method?: string; params?: { name?: string } }) : {};
      if (body.method !== undefined) seen.push({ method: body.method, tool: body.params?.name, headers });
      if (body.method === 'tools/call' && body.params?.name === 'crash-http') {
        return new Response(`internal error while serving authorization=${headers.authorization ?? '(none)'}`, { status: 500 });
      }
      const server = new Server({ name: 'credential-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler('tools/list', () => ({ tools: TOOLS }));
      server.setRequestHandler('tools/call', (call) => {
        const shown = JSON.stringify(headers);
        if (call.params.name === 'fail') throw new ProtocolError(ProtocolErrorCode.InternalError, `upstream refused the credentials it was sent: ${shown}`);
        if (call.params.name === 'fail-softly') return { content: [{ type: 'text', text: `not allowed with ${shown}` }], isError: true };
        return { content: [{ type: 'text', text: shown }] };
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      return transport.handleRequest(request);
    },
  });
  await new Promise<void>((resolve) => httpServer.once('listening', () => resolve()));
  const { port } = httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, seen, close: () => new Promise((resolve) => httpServer.close(() => resolve())) };
}

/** The credential headers a tool of this server reported in its answer. */
export function reportedHeaders(result: unknown): SeenRequest['headers'] {
  const text = ((result as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? '{}';
  return JSON.parse(text) as SeenRequest['headers'];
}
