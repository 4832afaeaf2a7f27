import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { SessionIdentity } from '../../gateway/call-recorder.js';
import type { UiEnv } from './ui-access.js';

/** Writes one ledger entry (CallRecorder.event); rejects when the log cannot be written. */
export type EventRecorder = (who: SessionIdentity, kind: string, payload: unknown) => Promise<void>;

/** Every use of the web UI is an entry of this session of the log, whoever made it. */
export const UI_SESSION = 'ui';

/**
 * Records every use of the web UI (its pages and the calls its scripts make; not the stylesheet
 * and scripts themselves) as an `api.request` entry, in the form the reviewer and approver API
 * records its uses: who (principal and role, or nobody), which route, the status and outcome, and
 * why it was refused. A use that cannot be recorded is not served (503, fail-closed).
 */
export function recordUiUses(record: EventRecorder, remoteAddressOf: (c: Context) => string | undefined): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    await next();
    const principal = c.get('principal');
    const remote = remoteAddressOf(c);
    const problem = c.get('problem');
    const approval = c.get('approval');
    const { status } = c.res;
    try {
      await record(
        { session: UI_SESSION, agent: { transport: 'http', ...(remote === undefined ? {} : { remote }), ...(principal === undefined ? {} : { id: principal.name, auth: 'token' as const }) } },
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
      c.res = c.text(`the audit log cannot be written (${error instanceof Error ? error.message : String(error)}), so this page was not served`, 503);
    }
  };
}

/** The route the request matched, also when a middleware refused it before the route's handler ran. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  // Middleware and the catch-all answer every method; a route answers its own.
  return (routes.filter((route) => route.method !== 'ALL').at(-1) ?? routes.at(-1))?.path ?? c.req.path;
}
