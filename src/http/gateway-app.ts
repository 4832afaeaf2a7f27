import { Hono, type Context } from 'hono';
import type { ListenConfig } from '../config/config-schema.js';
import type { Gateway } from '../gateway/gateway.js';
import { McpEndpoint } from './mcp-endpoint.js';
import { hostAndOriginGuard, requestBodyLimit } from './request-guards.js';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';

export interface GatewayAppOptions {
  gateway: Gateway;
  listen: ListenConfig;
  /** The agent's address, where the runtime adapter knows it. */
  remoteAddressOf(c: Context): string | undefined;
}

/** The runtime-neutral HTTP face of the gateway: a Hono app on web-standard Request/Response. */
export function createGatewayApp(options: GatewayAppOptions): { app: Hono; close(): Promise<void> } {
  const endpoint = new McpEndpoint({
    gateway: options.gateway,
    maxBodyBytes: options.listen.maxBodyBytes,
  });
  const app = new Hono();
  app.use('*', hostAndOriginGuard({ allowedHosts: options.listen.allowedHosts, allowedOrigins: options.listen.allowedOrigins }));
  app.use(options.listen.path, requestBodyLimit(options.listen.maxBodyBytes));
  app.all(options.listen.path, (c) => endpoint.handle(c.req.raw, options.remoteAddressOf(c)));
  app.get('/sse', () =>
    jsonRpcErrorResponse(404, -32000, `the 2024-11-05 HTTP+SSE transport is not supported: connect with Streamable HTTP to ${options.listen.path}`),
  );
  app.notFound((c) => jsonRpcErrorResponse(404, -32000, `no such endpoint ${c.req.path}: MCP is served at ${options.listen.path}`));
  return { app, close: () => endpoint.close() };
}
