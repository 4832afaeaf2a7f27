import type { Context, MiddlewareHandler } from 'hono';
import type { OAuthIdentity } from '../auth/oauth-access-token.js';
import { isAccessTokenShaped } from '../auth/access-token.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import { isPermitted } from '../auth/role-permissions.js';

/** Who is calling, as the HTTP endpoint established it; it goes into every entry of the session. */
export interface CallerIdentity {
  readonly remote?: string;
  /** The registered agent name, or the OAuth client the access token was issued to. */
  readonly id?: string;
  /** The human principal of an OAuth access token (`sub`). */
  readonly subject?: string;
  readonly auth: 'token' | 'oauth' | 'none';
}

export interface AgentAuthenticationOptions {
  unauthenticated: 'refuse' | 'loopback';
  principals: PrincipalDirectory;
  /** Set when OAuth access tokens are accepted. */
  oauth?: { readonly verify: (token: string) => Promise<OAuthIdentity> } | undefined;
  /** Where the protected resource metadata is served (RFC 9728), named in every 401. */
  resourceMetadataPath: string;
  remoteAddressOf(c: Context): string | undefined;
  /** Records a refused attempt; a failure to record still refuses. */
  onRefused(refusal: { remote?: string | undefined; reason: string; agent?: string | undefined }): Promise<void>;
}

/**
 * An OAuth agent's access token, kept beside its identity and never in it (the identity is
 * recorded): a token exchange trades it for an upstream token on the agent's behalf.
 */
export interface AgentAccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly scopes: string[];
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export type AuthenticatedEnv = { Variables: { caller: CallerIdentity; accessToken: AgentAccessToken | undefined } };

/**
 * Lets through only agents that prove who they are (a token from `agenttrail agents add`, or an
 * OAuth access token), or, when the config says so, anyone on this machine. A suspended or revoked
 * agent is refused from its very next request, in the middle of a session too.
 */
export function agentAuthentication(options: AgentAuthenticationOptions): MiddlewareHandler<AuthenticatedEnv> {
  return async (c, next) => {
    const remote = options.remoteAddressOf(c);
    const refuse = async (status: 401 | 403, reason: string, agent?: string, tokenError?: 'invalid_token'): Promise<Response> => {
      await options.onRefused({ remote, reason, agent }).catch(() => undefined);
      const metadata = new URL(options.resourceMetadataPath, c.req.url).href;
      const challenge = [tokenError === undefined ? undefined : `error="${tokenError}"`, tokenError === undefined ? undefined : `error_description="${reason}"`, `resource_metadata="${metadata}"`];
      return Response.json(
        { jsonrpc: '2.0', id: null, error: { code: -32001, message: reason } },
        { status, headers: status === 401 ? { 'WWW-Authenticate': `Bearer ${challenge.filter((part) => part !== undefined).join(', ')}` } : {} },
      );
    };
    const token = bearerTokenOf(c.req.header('authorization'));
    if (token === undefined) {
      if (options.unauthenticated === 'loopback' && remote !== undefined && isLoopbackAddress(remote)) {
        c.set('caller', { remote, auth: 'none' });
        return next();
      }
      return refuse(401, 'authentication required: send Authorization: Bearer <token> (a token from agenttrail agents add, or an OAuth access token)');
    }
    if (isAccessTokenShaped(token)) {
      const found = await options.principals.authenticate(token);
      if (!('principal' in found)) return refuse(401, 'the token is not known', undefined, 'invalid_token');
      const name = found.principal.name;
      if (found.outcome === 'revoked') return refuse(401, `agent "${name}" has been revoked`, name, 'invalid_token');
      if (found.outcome === 'suspended') return refuse(403, `agent "${name}" is suspended`, name);
      if (!isPermitted(found.principal.role, 'call-tools')) {
        return refuse(403, `"${name}" holds a ${found.principal.role} token, which cannot call tools; agents use agent tokens`, name);
      }
      c.set('caller', { ...(remote === undefined ? {} : { remote }), id: name, auth: 'token' });
      return next();
    }
    if (options.oauth === undefined) return refuse(401, 'the token is not known', undefined, 'invalid_token');
    let identity: OAuthIdentity;
    try {
      identity = await options.oauth.verify(token);
    } catch (error) {
      return refuse(401, error instanceof Error ? error.message : 'the token could not be checked', undefined, 'invalid_token');
    }
    c.set('caller', {
      ...(remote === undefined ? {} : { remote }),
      id: identity.agent,
      ...(identity.subject === undefined ? {} : { subject: identity.subject }),
      auth: 'oauth',
    });
    c.set('accessToken', { token, clientId: identity.agent, scopes: identity.scope?.split(' ').filter((scope) => scope !== '') ?? [], expiresAt: identity.expires });
    return next();
  };
}

export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form. */
function isLoopbackAddress(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}
