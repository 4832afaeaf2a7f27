import type { Client } from '@libsql/client';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { DecisionRefused } from '../../approvals/approval-desk.js';
import type { ApprovalDesk } from '../../approvals/approval-desk.js';
import { ApprovalStatementSchema } from '../../approvals/approval-statement.js';
import type { PrincipalDirectory } from '../../auth/principal-directory.js';
import { viewOf } from '../../review/call-view.js';
import type { CallView, EventView } from '../../review/call-view.js';
import { listSessions, SessionFilterSchema, summarizeSession } from '../../review/session-summaries.js';
import type { SessionSummary } from '../../review/session-summaries.js';
import { readTimeline } from '../../review/session-timeline.js';
import { DECISION_REFUSAL_STATUS } from '../approvals-api.js';
import { requestBodyLimit } from '../request-guards.js';
import { ApprovalsPage } from './approvals-page.js';
import { LoginPage } from './login-page.js';
import { MessagePage } from './message-page.js';
import { ProofQuerySchema, readProofMaterial } from './proof-material.js';
import { SessionPage } from './session-page.js';
import { SessionsPage } from './sessions-page.js';
import { landingOf, refusePage, requireUiPermission, signIn, signOut } from './ui-access.js';
import type { UiEnv } from './ui-access.js';
import { uiAssets, uiSecurityHeaders } from './ui-assets.js';
import type { UiAssetFiles } from './ui-assets.js';
import { recordUses } from '../api-use-record.js';
import type { EventRecorder } from '../api-use-record.js';

export interface WebUiOptions {
  /** The gateway's log (its checkpoint origin): the one the UI shows. */
  readonly log: string;
  /** A connection to the audit database for the review's reads. */
  readonly client: Client;
  /** Where approvers' decisions are checked and recorded, as those of the CLI and the API are. */
  readonly desk: ApprovalDesk;
  readonly principals: PrincipalDirectory;
  /** The gateway's verifier key, as `agenttrail keys show` prints it. */
  readonly verifierKey: string;
  readonly assets: UiAssetFiles;
  /** Records each use of the UI (through the gateway's recorder, which redacts). */
  readonly record: EventRecorder;
  readonly maxBodyBytes: number;
  remoteAddressOf(c: Context): string | undefined;
}

/** Pages show at most this many sessions, and a session page this many calls and events; the CLI has them all. */
const SESSIONS_PER_PAGE = 500;
const ITEMS_PER_PAGE = 2000;

const FILTER_NAMES = ['agent', 'tool', 'since', 'until', 'outcome'] as const;

/**
 * What the approvals page's script sends to decide: the statement it signed is the request's
 * (type, log, request) with these fields added, signed as RFC 8785 canonical JSON with the
 * approver's own Ed25519 key in the browser; the gateway never sees that key.
 */
const DecisionBodySchema = z.strictObject({
  decision: ApprovalStatementSchema.shape.decision,
  reason: z.string().min(1, 'must not be empty; leave it out for none').optional(),
  time: ApprovalStatementSchema.shape.time,
  /** The approver's verifier key, as the config lists it under approvers. */
  key: z.string().min(1),
  /** Base64 Ed25519 signature of the statement's canonical JSON. */
  signature: z.string().min(1),
});

/**
 * The web UI, mounted at /ui: server-rendered pages for reviewers (sessions, timelines, the
 * verification panel) and approvers (the approvals queue), with a script only where the browser
 * must do the work itself: verifying proofs and signing decisions. Every use is recorded.
 */
export function webUi(options: WebUiOptions): Hono<UiEnv> {
  const { log, client, principals, desk } = options;
  const readLog = requireUiPermission(principals, ['read-log'], 'read the log; sessions and their timelines need a reviewer token');
  const readQueue = requireUiPermission(principals, ['read-log', 'decide-approvals'], 'open the web UI; use a reviewer or approver token');

  const ui = new Hono<UiEnv>();
  ui.use('*', uiSecurityHeaders());
  ui.route('/assets', uiAssets(options.assets));
  // Every use of the UI (its pages and its scripts' calls, not its assets) is an entry of one session, whoever made it.
  ui.use('*', recordUses('ui', options.record, options.remoteAddressOf, (c, reason) => c.text(`${reason}, so this page was not served`, 503)));
  ui.use('*', requestBodyLimit(options.maxBodyBytes));

  ui.get('/', readQueue, (c) => c.redirect(landingOf(c.get('principal')!), 303));
  ui.get('/login', (c) => c.html(<LoginPage problem={undefined} next={undefined} />));
  ui.post('/login', (c) => signIn(c, principals));
  ui.post('/logout', (c) => signOut(c));

  ui.get('/sessions', readLog, async (c) => {
    const filters = Object.fromEntries(FILTER_NAMES.map((name) => [name, c.req.query(name)?.trim() ?? ''])) as Record<(typeof FILTER_NAMES)[number], string>;
    const parsed = SessionFilterSchema.safeParse(Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '')));
    const page = { principal: c.get('principal')!, log, filters };
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const problem = `${issue.path.join('.')}: ${issue.message}`;
      c.set('problem', problem);
      return c.html(<SessionsPage {...page} problem={problem} sessions={[]} truncated={false} />, 400);
    }
    const sessions: SessionSummary[] = [];
    let truncated = false;
    for await (const session of listSessions(client, log, parsed.data)) {
      if (sessions.length === SESSIONS_PER_PAGE) {
        truncated = true;
        break;
      }
      sessions.push(session);
    }
    return c.html(<SessionsPage {...page} problem={undefined} sessions={sessions} truncated={truncated} />);
  });

  ui.get('/sessions/:session', readLog, async (c) => {
    const session = c.req.param('session');
    const summary = await summarizeSession(client, log, session);
    if (summary === undefined) return refusePage(c, 404, 'No such session', `log "${log}" has no session "${session}"`);
    const items: (CallView | EventView)[] = [];
    let truncated = false;
    for await (const item of readTimeline(client, log, { session })) {
      if (items.length === ITEMS_PER_PAGE) {
        truncated = true;
        break;
      }
      items.push(viewOf(item));
    }
    return c.html(<SessionPage principal={c.get('principal')!} log={log} summary={summary} items={items} truncated={truncated} verifierKey={options.verifierKey} />);
  });

  ui.get('/proofs', requireUiPermission(principals, ['read-log'], 'read the log; use a reviewer token', 'json'), async (c) => {
    const query = ProofQuerySchema.safeParse(c.req.query());
    if (!query.success) return jsonProblem(c, 400, `entries: ${query.error.issues[0]!.message}`);
    const material = await readProofMaterial(client, log, query.data.entries);
    if (material === undefined) return jsonProblem(c, 409, `log "${log}" has no signed checkpoint yet`);
    return c.json(material);
  });

  ui.get('/approvals', readQueue, async (c) => {
    const requests = await desk.waiting();
    return c.html(<ApprovalsPage principal={c.get('principal')!} log={log} requests={requests} />);
  });

  ui.post('/approvals/:id/decision', requireUiPermission(principals, ['decide-approvals'], 'decide approval requests; use an approver token', 'json'), async (c) => {
    const id = c.req.param('id');
    c.set('approval', id);
    // Only a script of this origin sends JSON here; a form on another site cannot.
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return jsonProblem(c, 400, 'send the decision as JSON {decision, reason?, time, key, signature}');
    const body = DecisionBodySchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      const issue = body.error.issues[0]!;
      return jsonProblem(c, 400, `invalid decision${issue.path.length === 0 ? '' : ` (${issue.path.join('.')})`}: ${issue.message}; send JSON {decision, reason?, time, key, signature}`);
    }
    const principal = c.get('principal')!;
    const remote = options.remoteAddressOf(c);
    const request = await desk.detail(id);
    if (request === undefined) return jsonProblem(c, 404, `no approval request '${id}' in log "${log}"`);
    const { decision, reason, time, key, signature } = body.data;
    const statement = { ...request.statement, decision, ...(reason === undefined ? {} : { reason }), approver: key, time };
    const by = { transport: 'http' as const, ...(remote === undefined ? {} : { remote }), id: principal.name, auth: 'token' as const };
    try {
      const recorded = await desk.decide({ statement, signature }, by);
      const standing = decision === 'approve' ? ` (${recorded.approvals} of ${request.count} approvals)` : '';
      const message = `${decision === 'approve' ? 'approved' : 'denied'} request ${id}${standing} as ${recorded.approver}, recorded as entry ${recorded.entry.index} of log "${log}"`;
      return c.json({ request: id, decision, approver: recorded.approver, entry: recorded.entry.index, message });
    } catch (error) {
      if (error instanceof DecisionRefused) return jsonProblem(c, DECISION_REFUSAL_STATUS[error.kind], error.message);
      throw error;
    }
  });

  // Mounted at /ui, the app's '/' is /ui only; /ui/ is where many people start too.
  ui.all('*', (c) => (c.req.path === '/ui/' ? c.redirect('/ui', 308) : refusePage(c, 404, 'Not found', `there is no page ${c.req.path}; start at /ui`)));

  ui.onError((error, c) => {
    const message = `the page failed: ${error instanceof Error ? error.message : String(error)}`;
    c.set('problem', message);
    return c.html(<MessagePage title="Something went wrong" message={message} principal={c.get('principal')} />, 500);
  });
  return ui;
}

function jsonProblem(c: Context<UiEnv>, status: 400 | 404 | 409 | 403, message: string): Response {
  c.set('problem', message);
  return c.json({ error: message }, status);
}
