import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Principal } from '../auth/principal.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import { isPermitted } from '../auth/role-permissions.js';
import type { SessionIdentity } from '../gateway/call-recorder.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { eventProblem, EXTERNAL_EVENT_KIND, EXTERNAL_REFUSED_KIND, externalEventRecord, ExternalEventSchema, INGEST_REFUSALS_SESSION } from '../review/external-event.js';
import type { ExternalEvent } from '../review/external-event.js';
import { bearerTokenOf } from './agent-authentication.js';
import { githubEvent, githubSignatureProblem } from './github-webhook.js';

export interface EventsApiOptions {
  readonly principals: PrincipalDirectory;
  /** Writes one entry (CallRecorder.event, which redacts it); rejects when the log cannot be written. */
  readonly record: (who: SessionIdentity, kind: string, payload: unknown) => Promise<void>;
  /** The GitHub webhook's secret (config ingest.github.secret); undefined: GitHub deliveries are refused. */
  readonly githubSecret?: string | undefined;
  readonly maxBodyBytes: number;
  remoteAddressOf(c: Context): string | undefined;
}

// One request may carry this many events; more is a client that should send several requests.
const MAX_EVENTS_PER_REQUEST = 1000;

const TOKEN_HINT = 'send Authorization: Bearer <token>, an ingest token from agenttrail agents add NAME --role ingest';
// RFC 6750: a 401 names the scheme, and says when the token itself was not good.
const BEARER_CHALLENGE = 'Bearer realm="agenttrail"';
const INVALID_TOKEN_CHALLENGE = `${BEARER_CHALLENGE}, error="invalid_token"`;
const ROUTES = 'POST /v1/events, POST /v1/events/github';

/** A request that is not served; `status` and `reason` are what the sender reads, and what the log records. */
interface Refusal {
  readonly status: 400 | 401 | 403 | 404 | 413 | 503;
  readonly reason: string;
  readonly principal?: Principal | undefined;
  /** The WWW-Authenticate header of a 401 that asks for a token. */
  readonly challenge?: string;
}

/**
 * The ingest endpoint, mounted at /v1/events: other systems append their events to the signed log
 * as `external.event` entries, among the agents' calls. `POST /v1/events` takes one event, or an
 * array of them (all or none are recorded), from a principal with the ingest role; `POST
 * /v1/events/github` takes GitHub webhook deliveries, proven by their X-Hub-Signature-256. Every
 * refusal is answered with a JSON `{error}` that says what is wrong, and recorded as an
 * `external.refused` entry (a refusal that cannot be recorded is refused all the same).
 */
export function eventsApi(options: EventsApiOptions): Hono {
  const api = new Hono();
  const refuse = async (c: Context, refusal: Refusal): Promise<Response> => {
    const { status, reason, principal } = refusal;
    const remote = options.remoteAddressOf(c);
    const agent: AgentIdentity = { transport: 'http', ...(remote === undefined ? {} : { remote }), ...(principal === undefined ? {} : { id: principal.name, auth: 'token' as const }) };
    const payload = { route: `${c.req.method} ${c.req.path}`, status, reason, ...(principal === undefined ? {} : { principal: principal.name, role: principal.role }) };
    await options.record({ session: INGEST_REFUSALS_SESSION, agent }, EXTERNAL_REFUSED_KIND, payload).catch(() => undefined);
    return c.json({ error: reason }, status, refusal.challenge === undefined ? {} : { 'WWW-Authenticate': refusal.challenge });
  };
  const append = async (c: Context, agent: AgentIdentity, events: readonly ExternalEvent[], principal?: Principal): Promise<Response> => {
    const records = events.map(externalEventRecord);
    try {
      await Promise.all(records.map(({ session, payload }) => options.record({ session, agent }, EXTERNAL_EVENT_KIND, payload)));
    } catch (error) {
      const reason = `the audit log cannot be written (${error instanceof Error ? error.message : String(error)}); send the events again (those recorded already will then be in the log twice)`;
      return refuse(c, { status: 503, reason, principal });
    }
    return c.json({ accepted: records.length, sessions: [...new Set(records.map((record) => record.session))] });
  };

  api.use('*', bodyLimit({ maxSize: options.maxBodyBytes, onError: (c) => refuse(c, { status: 413, reason: `the body is larger than ${options.maxBodyBytes} bytes (listen.maxBodyBytes)` }) }));

  api.post('/', async (c) => {
    const token = bearerTokenOf(c.req.header('authorization'));
    if (token === undefined) return refuse(c, { status: 401, reason: `authentication required: ${TOKEN_HINT}`, challenge: BEARER_CHALLENGE });
    const found = await options.principals.authenticate(token);
    if (!('principal' in found)) return refuse(c, { status: 401, reason: `the token is not known: ${TOKEN_HINT}`, challenge: INVALID_TOKEN_CHALLENGE });
    const { principal } = found;
    if (found.outcome !== 'accepted') return refuse(c, { status: 401, reason: `"${principal.name}" is ${found.outcome}`, principal, challenge: INVALID_TOKEN_CHALLENGE });
    if (!isPermitted(principal.role, 'ingest-events')) {
      const article = /^[aeiou]/.test(principal.role) ? 'an' : 'a';
      return refuse(c, { status: 403, reason: `"${principal.name}" holds ${article} ${principal.role} token, which cannot append events; use an ingest token`, principal });
    }
    const body = parseJson(await c.req.text());
    if ('problem' in body) return refuse(c, { status: 400, reason: body.problem, principal });
    const items = Array.isArray(body.value) ? body.value : [body.value];
    if (items.length === 0 || items.length > MAX_EVENTS_PER_REQUEST) {
      return refuse(c, { status: 400, reason: `send one event, or an array of 1 to ${MAX_EVENTS_PER_REQUEST} events (this one holds ${items.length})`, principal });
    }
    const events: ExternalEvent[] = [];
    for (const [at, item] of items.entries()) {
      const event = ExternalEventSchema.safeParse(item);
      if (event.success) {
        events.push(event.data);
        continue;
      }
      const which = Array.isArray(body.value) ? `event ${at} is invalid (none of the request's events was recorded)` : 'invalid event';
      return refuse(c, { status: 400, reason: `${which}: ${eventProblem(event.error)}`, principal });
    }
    const remote = options.remoteAddressOf(c);
    return append(c, { transport: 'http', ...(remote === undefined ? {} : { remote }), id: principal.name, auth: 'token' }, events, principal);
  });

  api.post('/github', async (c) => {
    if (options.githubSecret === undefined) {
      return refuse(c, { status: 404, reason: "GitHub webhooks are not set up here: set ingest.github.secret in the gateway's config to the webhook's secret" });
    }
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const problem = await githubSignatureProblem(options.githubSecret, raw, c.req.header('x-hub-signature-256'));
    if (problem !== undefined) return refuse(c, { status: 401, reason: problem });
    const name = c.req.header('x-github-event');
    if (name === undefined || name === '') return refuse(c, { status: 400, reason: 'the delivery has no X-GitHub-Event header' });
    const payload = parseJson(new TextDecoder().decode(raw));
    if ('problem' in payload) return refuse(c, { status: 400, reason: `${payload.problem}; set the webhook's content type to application/json in GitHub` });
    const event = ExternalEventSchema.safeParse(githubEvent(name, c.req.header('x-github-delivery'), payload.value, new Date()));
    if (!event.success) return refuse(c, { status: 400, reason: `the delivery does not make an event: ${eventProblem(event.error)}` });
    const remote = options.remoteAddressOf(c);
    const hookshot = /^GitHub-Hookshot\/(\S+)/.exec(c.req.header('user-agent') ?? '')?.[1];
    return append(c, { transport: 'http', ...(remote === undefined ? {} : { remote }), client: { name: 'github-webhook', version: hookshot ?? 'unknown' } }, [event.data]);
  });

  api.all('*', (c) => refuse(c, { status: 404, reason: `no such route ${c.req.method} ${c.req.path} (routes: ${ROUTES})` }));
  return api;
}

function parseJson(text: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: `the body is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}
