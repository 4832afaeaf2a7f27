import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { SessionIdentity } from '../gateway/call-recorder.js';
import type { ApiEnv } from './api-principals.js';

/** Writes one ledger entry (CallRecorder.event); rejects when the log cannot be written. */
export type EventRecorder = (who: SessionIdentity, kind: string, payload: unknown) => Promise<void>;

/**
 * Records every use of a reviewer's or approver's interface (the API at /v1, the web UI at /ui) as
 * an `api.request` entry in `session` (one session per interface, whoever used it), refusals
 * included: who (principal and role, or nobody), which route, the status it got and why. A use that
 * cannot be recorded is not served (`unrecorded`, a 503: fail-closed); a decision it made is in the
 * log already, and says so itself.
 */
export function recordUses(
  session: string,
  record: EventRecorder,
  remoteAddressOf: (c: Context) => string | undefined,
  unrecorded: (c: Context<ApiEnv>, reason: string) => Response,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    const principal = c.get('principal');
    const remote = remoteAddressOf(c);
    const { status } = c.res;
    const problem = c.get('problem');
    const approval = c.get('approval');
    try {
      await record(
        {
          session,
          agent: { transport: 'http', ...(remote === undefined ? {} : { remote }), ...(principal === undefined ? {} : { id: principal.name, auth: 'token' as const }) },
        },
        'api.request',
        {
          method: c.req.method,
          route: routeOf(c),
          path: c.req.path,
          status,
          outcome: status < 400 ? 'ok' : status < 500 ? 'refused' : 'error',
          ...(principal === undefined ? {} : { principal: principal.name, role: principal.role }),
          ...(problem === undefined ? {} : { reason: problem }),
          ...(approval === undefined ? {} : { request: approval }),
        },
      );
    } catch (error) {
      c.res = undefined;
      c.res = unrecorded(c, `the audit log cannot be written (${error instanceof Error ? error.message : String(error)})`);
    }
  };
}

/** The route the request matched, also when a middleware refused it before the route's handler ran. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  // Middleware and the catch-all answer ALL methods; a route answers its own.
  return (routes.filter((route) => route.method !== 'ALL').at(-1) ?? routes.at(-1))?.path ?? c.req.path;
}
