import {
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isLegacyRequest,
  isSpecType,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import type { AgentSession } from '../gateway/agent-session.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AgentAccessToken, CallerIdentity } from './agent-authentication.js';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';
import { GET_STREAM_ID, SessionEventStore } from './session-event-store.js';

export interface McpEndpointOptions {
  gateway: Gateway;
  maxBodyBytes: number;
}

const FIRST_PROTOCOL_WITH_EMPTY_EVENTS = '2025-11-25';

interface LegacySession {
  transport: WebStandardStreamableHTTPServerTransport;
  session: AgentSession;
  /** Who opened it: only the same agent may use it. */
  owner: string;
  events: SessionEventStore;
  /** Whether the agent has had its GET stream: before that, nothing outside a call reached it. */
  getStreamOpened: boolean;
}

/**
 * One MCP endpoint for both revisions. 2026-07-28 requests are stateless and go to the SDK's
 * per-request handler. 2025-11-25 clients get real sessions (their own transport and upstreams per
 * `Mcp-Session-Id`), because the SDK's stateless legacy fallback cannot carry the GET stream or the
 * upstreams' requests to the agent.
 */
export class McpEndpoint {
  readonly #sessions = new Map<string, LegacySession>();
  readonly #stateless: McpHttpHandler;
  readonly #callerOf = new WeakMap<Request, CallerIdentity>();

  constructor(private readonly options: McpEndpointOptions) {
    this.#stateless = createMcpHandler(
      ({ requestInfo }) => {
        const caller = requestInfo === undefined ? undefined : this.#callerOf.get(requestInfo);
        return options.gateway.statelessServer({ transport: 'http', ...caller });
      },
      { legacy: 'reject', maxRequestBodySize: options.maxBodyBytes, onerror: () => undefined },
    );
    options.gateway.onStatelessNotification = (notification) => {
      if (notification.method === 'notifications/tools/list_changed') this.#stateless.notify.toolsChanged();
      else if (notification.method === 'notifications/prompts/list_changed') this.#stateless.notify.promptsChanged();
      else if (notification.method === 'notifications/resources/list_changed') this.#stateless.notify.resourcesChanged();
      else if (notification.method === 'notifications/resources/updated') {
        const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
        if (typeof uri === 'string') this.#stateless.notify.resourceUpdated(uri);
      }
    };
  }

  /**
   * `caller` is who the request comes from, as the endpoint's authentication established it;
   * `accessToken` the OAuth access token it sent, which each message of the request carries to the
   * gateway (`ctx.http.authInfo`), so that a token exchange can act on the agent's behalf.
   */
  async handle(request: Request, caller: CallerIdentity, accessToken?: AgentAccessToken): Promise<Response> {
    const sent = accessToken === undefined ? undefined : { authInfo: accessToken };
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const legacy = this.#sessions.get(sessionId);
      // Another agent's session is as good as unknown to this one.
      if (!legacy || legacy.owner !== ownerOf(caller)) {
        return jsonRpcErrorResponse(404, -32001, `unknown or expired session '${sessionId}': start a new session with initialize`);
      }
      return request.method === 'GET' ? this.openGetStream(legacy, request) : legacy.transport.handleRequest(request, sent);
    }
    if (request.method === 'GET') {
      return jsonRpcErrorResponse(
        405,
        -32000,
        'GET without Mcp-Session-Id: this endpoint speaks Streamable HTTP (MCP 2025-11-25 and 2026-07-28); the 2024-11-05 HTTP+SSE transport is not supported',
      );
    }
    if (await isLegacyRequest(request, undefined, { maxRequestBodySize: this.options.maxBodyBytes })) {
      return this.openLegacySession(request, caller, sent);
    }
    this.#callerOf.set(request, caller);
    await this.listenUpstream(request);
    return this.#stateless.fetch(request, sent);
  }

  async close(): Promise<void> {
    await this.#stateless.close();
    await Promise.all([...this.#sessions.values()].map(({ session }) => session.close()));
    this.#sessions.clear();
  }

  private async openLegacySession(request: Request, caller: CallerIdentity, sent: { authInfo: AgentAccessToken } | undefined): Promise<Response> {
    const sessionId = crypto.randomUUID();
    const session = this.options.gateway.openSession(sessionId, { transport: 'http', ...caller });
    const events = new SessionEventStore();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessioninitialized: () => void this.#sessions.set(sessionId, { transport, session, owner: ownerOf(caller), events, getStreamOpened: false }),
      onsessionclosed: () => this.forget(sessionId),
      maxRequestBodySize: this.options.maxBodyBytes,
      eventStore: events,
    });
    transport.onclose = () => this.forget(sessionId);
    await session.server.connect(transport);
    const response = await transport.handleRequest(request, sent);
    // Anything but a successful initialize leaves no session behind.
    if (!this.#sessions.has(sessionId)) await session.close();
    return response;
  }

  /**
   * The GET stream carries what belongs to no call (list changes, resource updates, log messages),
   * which the session keeps (see SessionEventStore). The first GET gets everything kept since the
   * session began; a later one what came after its Last-Event-ID. Each stream opens with an event id
   * of its own, so that an agent that saw nothing on it yet can still resume where it left off.
   */
  private async openGetStream(legacy: LegacySession, request: Request): Promise<Response> {
    const resumed = legacy.getStreamOpened || request.headers.has('last-event-id') ? request : withLastEventId(request, legacy.events.origin(GET_STREAM_ID));
    const lastEventId = resumed.headers.get('last-event-id');
    const resumePoint = legacy.events.resumePoint(GET_STREAM_ID);
    const response = await legacy.transport.handleRequest(resumed);
    if (response.status !== 200 || !response.body) return response;
    legacy.getStreamOpened = true;
    // A GET may resume a call's stream instead, whose events carry ids of their own. Clients before
    // 2025-11-25 may not take an event without data (the SDK primes no stream for them either).
    const resumesGetStream = lastEventId === null || legacy.events.streamOf(lastEventId) === GET_STREAM_ID;
    const protocol = legacy.session.server.getNegotiatedProtocolVersion() ?? '';
    return resumesGetStream && protocol >= FIRST_PROTOCOL_WITH_EMPTY_EVENTS ? withLeadingEventId(response, response.body, resumePoint) : response;
  }

  /**
   * A 2026-07-28 agent asks for change notifications with subscriptions/listen, which the SDK answers
   * itself; the upstreams still have to be asked for the changes the gateway passes on, before the
   * agent's listen is acknowledged so that no change in between is missed.
   */
  private async listenUpstream(request: Request): Promise<void> {
    // 2026-07-28 requires the Mcp-Method header (the SDK refuses a request without it), so only a
    // listen request has its body read a second time.
    if (request.method !== 'POST' || request.headers.get('mcp-method') !== 'subscriptions/listen') return;
    const body = await request.clone().json().catch(() => undefined);
    // A malformed listen is the SDK's to refuse.
    if (isSpecType.SubscriptionsListenRequest(body)) await this.options.gateway.listenForStatelessAgents(body.params.notifications);
  }

  private forget(sessionId: string): void {
    const legacy = this.#sessions.get(sessionId);
    if (!legacy) return;
    this.#sessions.delete(sessionId);
    void legacy.session.close();
  }
}

/** The identity a session is bound to: the agent, never its address (which may change on reconnect). */
function ownerOf(caller: CallerIdentity): string {
  return JSON.stringify([caller.auth, caller.id ?? '', caller.subject ?? '']);
}

function withLastEventId(request: Request, eventId: string): Request {
  const headers = new Headers(request.headers);
  headers.set('last-event-id', eventId);
  return new Request(request, { headers });
}

/** The SSE response with an event that carries only an id (as the SDK primes its POST streams) in front. */
function withLeadingEventId(response: Response, body: ReadableStream<Uint8Array>, eventId: string): Response {
  const reader = body.getReader();
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode(`id: ${eventId}\ndata: \n\n`)),
    pull: async (controller) => {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(stream, { status: response.status, statusText: response.statusText, headers: response.headers });
}
