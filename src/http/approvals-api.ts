import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { DecisionRefused } from '../approvals/approval-desk.js';
import type { ApprovalDesk } from '../approvals/approval-desk.js';
import { ApprovalStatementSchema } from '../approvals/approval-statement.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import { apiProblem, principalAuthentication, requirePermission } from './api-principals.js';
import type { ApiEnv } from './api-principals.js';
import { recordUses } from './api-use-record.js';
import { requestBodyLimit } from './request-guards.js';
import type { EventRecorder } from './api-use-record.js';

export interface ApprovalsApiOptions {
  readonly desk: ApprovalDesk;
  readonly principals: PrincipalDirectory;
  readonly record: EventRecorder;
  readonly maxBodyBytes: number;
  remoteAddressOf(c: Context): string | undefined;
}

/**
 * What an approver sends to decide: the statement they signed is the one `GET /v1/approvals/ID`
 * gives (`statement`: type, log, request) with these fields added, signed as RFC 8785 canonical JSON
 * with their own Ed25519 key, client-side: the gateway never holds an approver's key.
 */
export const DecisionBodySchema = z.strictObject({
  decision: ApprovalStatementSchema.shape.decision,
  reason: z.string().min(1, 'must not be empty; leave it out for none').optional(),
  /** When they signed: part of the statement; refused when far from the gateway's clock. */
  time: ApprovalStatementSchema.shape.time,
  /** Their verifier key (name+keyid+base64), as the config lists it under approvers. */
  key: z.string().min(1),
  /** Base64 Ed25519 signature of the statement's canonical JSON. */
  signature: z.string().min(1),
});

const ROUTES = 'GET /v1/approvals, GET /v1/approvals/ID, POST /v1/approvals/ID/decision';

/** The HTTP status of each refusal of a decision, for every route that takes decisions (the API's, the web UI's). */
export const DECISION_REFUSAL_STATUS: Record<DecisionRefused['kind'], 400 | 403 | 404 | 409> = {
  'unknown-request': 404,
  'wrong-statement': 400,
  'bad-signature': 400,
  'not-an-approver': 403,
  'not-allowed': 403,
  'not-waiting': 409,
  'decided-already': 409,
};

/**
 * The reviewer and approver API, mounted at /v1: reviewers and approvers read the approval
 * requests, approvers decide them. Every use, refused or not, is an `api.request` entry; an agent's
 * token opens nothing here.
 */
export function approvalsApi(options: ApprovalsApiOptions): Hono<ApiEnv> {
  const { desk } = options;
  const api = new Hono<ApiEnv>();
  // All uses of the API are one session of the log, whoever made them.
  api.use('*', recordUses('api', options.record, options.remoteAddressOf, (c, reason) => c.json({ error: `${reason}, so this request was not served` }, 503)));
  api.use('*', requestBodyLimit(options.maxBodyBytes));
  api.use('*', principalAuthentication(options.principals));
  api.use('*', requirePermission(['read-log', 'decide-approvals'], 'use the reviewer and approver API; use a reviewer or approver token'));

  api.get('/approvals', async (c) => c.json({ log: desk.log, requests: await desk.waiting() }));

  api.get('/approvals/:id', async (c) => {
    const id = c.req.param('id');
    c.set('approval', id);
    const request = await desk.detail(id);
    if (request === undefined) return apiProblem(c, 404, `no approval request '${id}' in log "${desk.log}"`);
    return c.json({ request });
  });

  api.post('/approvals/:id/decision', requirePermission(['decide-approvals'], 'decide approval requests; use an approver token'), async (c) => {
    const id = c.req.param('id');
    c.set('approval', id);
    const body = DecisionBodySchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      const issues = body.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      const first = issues[0]!;
      return apiProblem(c, 400, `invalid decision${first.path === '' ? '' : ` (${first.path})`}: ${first.message}; send JSON {decision, reason?, time, key, signature}`, { issues });
    }
    const request = await desk.detail(id);
    if (request === undefined) return apiProblem(c, 404, `no approval request '${id}' in log "${desk.log}"`);
    const { decision, reason, time, key, signature } = body.data;
    const principal = c.get('principal')!;
    const remote = options.remoteAddressOf(c);
    try {
      const recorded = await desk.decide(
        { statement: { ...request.statement, decision, ...(reason === undefined ? {} : { reason }), approver: key, time }, signature },
        { transport: 'http', ...(remote === undefined ? {} : { remote }), id: principal.name, auth: 'token' },
      );
      return c.json({ request: id, decision, approver: recorded.approver, entry: recorded.entry.index, status: recorded.status, approvals: recorded.approvals, count: request.count });
    } catch (error) {
      if (error instanceof DecisionRefused) return apiProblem(c, DECISION_REFUSAL_STATUS[error.kind], error.message);
      throw error;
    }
  });

  api.all('*', (c) => apiProblem(c, 404, `no such route ${c.req.method} ${c.req.path} (routes: ${ROUTES})`));

  api.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    return apiProblem(c, 500, `the request failed: ${error.message}`);
  });
  return api;
}
