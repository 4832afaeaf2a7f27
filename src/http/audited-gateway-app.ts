import type { Context, Hono } from 'hono';
import { oauthTokenVerifier } from '../auth/oauth-access-token.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import type { GatewayConfig } from '../config/config-schema.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AuthenticatedEnv } from './agent-authentication.js';
import { createGatewayApp } from './gateway-app.js';
import type { GatewayAppOptions } from './gateway-app.js';

export interface AuditedGatewayAppOptions {
  gateway: Gateway;
  config: Pick<GatewayConfig, 'auth' | 'listen'>;
  /** Who a token belongs to, as the database holds it now. */
  principals: PrincipalDirectory;
  /** What this runtime serves besides MCP: the reviewer and approver API, ingest, the web UI. */
  extras?: Pick<GatewayAppOptions, 'api' | 'events' | 'ui'>;
  /** The agent's address, where the runtime adapter knows it. */
  remoteAddressOf(c: Context): string | undefined;
}

/**
 * The HTTP face of a configured gateway, as serve and the Worker run it: agents authenticate with
 * a token from the database or an OAuth access token, and every refusal at the door is recorded.
 */
export function createAuditedGatewayApp(options: AuditedGatewayAppOptions): { app: Hono<AuthenticatedEnv>; close(): Promise<void> } {
  const { gateway, config } = options;
  const { oauth } = config.auth;
  return createGatewayApp({
    ...options.extras,
    gateway,
    listen: config.listen,
    authentication: {
      unauthenticated: config.auth.unauthenticated,
      principals: options.principals,
      oauth: oauth === undefined ? undefined : { verify: oauthTokenVerifier(oauth) },
      onRefused: ({ remote, reason, agent }) =>
        gateway.recorder.event(
          { session: 'refused-at-the-door', agent: { transport: 'http', ...(remote === undefined ? {} : { remote }), ...(agent === undefined ? {} : { id: agent }) } },
          'auth.refused',
          { reason },
        ),
    },
    resource: { audience: oauth?.audience, authorizationServer: oauth?.issuer },
    remoteAddressOf: options.remoteAddressOf,
  });
}
