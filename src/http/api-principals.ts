import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { Principal } from '../auth/principal.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import { isPermitted } from '../auth/role-permissions.js';
import type { Permission } from '../auth/role-permissions.js';

/** What the API's middleware learns about a request, for its handlers and for the record of its use. */
export type ApiEnv = {
  Variables: {
    /** The principal the token names, also when it was refused (suspended, revoked, wrong role). */
    principal?: Principal;
    /** Why the request was refused or failed, in the words of the error body. */
    problem?: string;
    /** The approval request the route is about. */
    approval?: string;
  };
};

/** A JSON error that says what is wrong; the reason is kept for the record of this API use. */
export function apiProblem(c: Context<ApiEnv>, status: 400 | 401 | 403 | 404 | 409 | 500 | 503, message: string, details?: Record<string, unknown>): Response {
  c.set('problem', message);
  return c.json({ error: message, ...details }, status);
}

const TOKEN_HINT = 'send Authorization: Bearer <token>, a reviewer or approver token from agenttrail agents add NAME --role reviewer|approver';

/**
 * Lets through requests that carry the token of an active principal (`agenttrail agents add NAME
 * --role ROLE`); anything else gets a 401 with a WWW-Authenticate challenge (RFC 6750). A suspended
 * or revoked principal is refused from its very next request. Which roles may do what is for
 * `requirePermission`.
 */
export function principalAuthentication(principals: PrincipalDirectory): MiddlewareHandler<ApiEnv> {
  const refused = (text: (c: Context<ApiEnv>) => string) => (c: Context<ApiEnv>) => {
    const message = text(c);
    c.set('problem', message);
    return { error: message };
  };
  return bearerAuth({
    realm: 'agenttrail',
    verifyToken: async (token, c: Context<ApiEnv>) => {
      const found = await principals.authenticate(token);
      if ('principal' in found) c.set('principal', found.principal);
      if (found.outcome === 'accepted') return true;
      c.set('problem', found.outcome === 'suspended' || found.outcome === 'revoked' ? `"${found.principal.name}" is ${found.outcome}` : 'the token is not known');
      return false;
    },
    noAuthenticationHeader: { message: refused(() => `authentication required: ${TOKEN_HINT}`) },
    invalidAuthenticationHeader: { message: refused(() => `the Authorization header is not a bearer token: ${TOKEN_HINT}`) },
    invalidToken: { message: refused((c) => c.get('problem') ?? 'the token is not known') },
  });
}

/** Refuses (403) a principal whose role holds none of `permissions`. Runs after principalAuthentication. */
export function requirePermission(permissions: readonly Permission[], what: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = c.get('principal')!;
    if (!permissions.some((permission) => isPermitted(principal.role, permission))) {
      const article = /^[aeiou]/.test(principal.role) ? 'an' : 'a';
      return apiProblem(c, 403, `"${principal.name}" holds ${article} ${principal.role} token, which cannot ${what}`);
    }
    await next();
    return undefined;
  };
}
