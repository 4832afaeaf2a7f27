import { Hono, type Context } from 'hono';
import type { ListenConfig } from '../config/config-schema.js';
import type { Gateway } from '../gateway/gateway.js';
import { agentAuthentication } from './agent-authentication.js';
import type { AgentAuthenticationOptions, AuthenticatedEnv } from './agent-authentication.js';
import { approvalsApi } from './approvals-api.js';
import type { ApprovalsApiOptions } from './approvals-api.js';
import { eventsApi } from './events-api.js';
import type { EventsApiOptions } from './events-api.js';
import { McpEndpoint } from './mcp-endpoint.js';
import { hostAndOriginGuard, requestBodyLimit } from './request-guards.js';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';
import { webUi } from './ui/web-ui.js';
import type { WebUiOptions } from './ui/web-ui.js';

export interface GatewayAppOptions {
  gateway: Gateway;
  listen: ListenConfig;
  /** How agents prove who they are (see agent-authentication.ts). */
  authentication: Omit<AgentAuthenticationOptions, 'remoteAddressOf' | 'resourceMetadataPath'>;
  /** What the protected resource metadata tells clients: the token audience and the authorization server. */
  resource: { audience?: string | undefined; authorizationServer?: string | undefined };
  /** The reviewer and approver API at /v1 (see approvals-api.ts); absent: no /v1 routes. */
  api?: Pick<ApprovalsApiOptions, 'desk' | 'principals'> | undefined;
  /** The ingest endpoint at /v1/events (see events-api.ts); absent: no such route. */
  events?: Pick<EventsApiOptions, 'principals' | 'githubSecret'> | undefined;
  /** The web UI for reviewers and approvers at /ui (see ui/web-ui.tsx); absent: no /ui pages. */
  ui?: Omit<WebUiOptions, 'record' | 'maxBodyBytes' | 'remoteAddressOf'> | undefined;
  /** The agent's address, where the runtime adapter knows it. */
  remoteAddressOf(c: Context): string | undefined;
}

const RESOURCE_METADATA = '/.well-known/oauth-protected-resource';

/** The runtime-neutral HTTP face of the gateway: a Hono app on web-standard Request/Response. */
export function createGatewayApp(options: GatewayAppOptions): { app: Hono<AuthenticatedEnv>; close(): Promise<void> } {
  const endpoint = new McpEndpoint({
    gateway: options.gateway,
    maxBodyBytes: options.listen.maxBodyBytes,
  });
  const { path } = options.listen;
  // RFC 9728: the metadata of https://host/mcp lives at https://host/.well-known/oauth-protected-resource/mcp.
  const resourceMetadataPath = `${RESOURCE_METADATA}${path === '/' ? '' : path}`;
  const app = new Hono<AuthenticatedEnv>();
  app.use('*', hostAndOriginGuard({ allowedHosts: options.listen.allowedHosts, allowedOrigins: options.listen.allowedOrigins }));
  app.get(resourceMetadataPath, (c) =>
    c.json({
      resource: options.resource.audience ?? new URL(path, c.req.url).href,
      authorization_servers: options.resource.authorizationServer === undefined ? [] : [options.resource.authorizationServer],
      bearer_methods_supported: ['header'],
      resource_name: 'AgentTrail MCP gateway',
    }),
  );
  if (options.events !== undefined) {
    const record: EventsApiOptions['record'] = (who, kind, payload) => options.gateway.recorder.event(who, kind, payload);
    app.route('/v1/events', eventsApi({ ...options.events, record, maxBodyBytes: options.listen.maxBodyBytes, remoteAddressOf: options.remoteAddressOf }));
  }
  if (options.api !== undefined) {
    app.route(
      '/v1',
      approvalsApi({
        ...options.api,
        record: (who, kind, payload) => options.gateway.recorder.event(who, kind, payload),
        maxBodyBytes: options.listen.maxBodyBytes,
        remoteAddressOf: options.remoteAddressOf,
      }),
    );
  }
  if (options.ui !== undefined) {
    const { recorder } = options.gateway;
    app.route('/ui', webUi({ ...options.ui, record: (who, kind, payload) => recorder.event(who, kind, payload), maxBodyBytes: options.listen.maxBodyBytes, remoteAddressOf: options.remoteAddressOf }));
  }
  app.use(path, agentAuthentication({ ...options.authentication, resourceMetadataPath, remoteAddressOf: options.remoteAddressOf }));
  app.use(path, requestBodyLimit(options.listen.maxBodyBytes));
  app.all(path, (c) => endpoint.handle(c.req.raw, c.get('caller'), c.get('accessToken')));
  app.get('/sse', () =>
    jsonRpcErrorResponse(404, -32000, `the 2024-11-05 HTTP+SSE transport is not supported: connect with Streamable HTTP to ${path}`),
  );
  app.notFound((c) => jsonRpcErrorResponse(404, -32000, `no such endpoint ${c.req.path}: MCP is served at ${path}`));
  return { app, close: () => endpoint.close() };
}
