import { createMcpHandler, isLegacyRequest, isSpecType, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { AgentSession } from '../gateway/agent-session.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AgentAccessToken, CallerIdentity } from './agent-authentication.js';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';
import { SessionTransport } from './session-transport.js';

export interface McpEndpointOptions {
  gateway: Gateway;
  maxBodyBytes: number;
}

interface LegacySession {
  transport: SessionTransport;
  session: AgentSession;
  /** Who opened it: only the same agent may use it. */
  owner: string;
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
      return legacy.transport.handleRequest(request, sent);
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
    const transport = new SessionTransport({
      sessionId,
      maxBodyBytes: this.options.maxBodyBytes,
      onInitialized: () => void this.#sessions.set(sessionId, { transport, session, owner: ownerOf(caller) }),
      onEnded: () => this.forget(sessionId),
    });
    transport.onclose = () => this.forget(sessionId);
    await session.server.connect(transport);
    const response = await transport.handleRequest(request, sent);
    // Anything but a successful initialize leaves no session behind.
    if (!this.#sessions.has(sessionId)) await session.close();
    return response;
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
