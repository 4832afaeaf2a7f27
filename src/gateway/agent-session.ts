import {
  type ClientCapabilities,
  type Notification,
  type Result,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { acceptsElicitationForm } from '../approvals/client-user-approval.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { answerableCapabilities } from './answerable-capabilities.js';
import type { SessionIdentity } from './call-recorder.js';
import { createForwardingServer } from './forwarding-server.js';
import type { Gateway } from './gateway.js';
import type { UpstreamBridge } from './upstream-connection.js';
import { UpstreamSet } from './upstream-set.js';

/**
 * One connection of a 2025-11-25 agent, which keeps state: on stdio (`agenttrail wrap`) or an HTTP
 * session. It owns its own upstream connections, opened with the capabilities the agent declared, so
 * that the upstream offers what it would offer the agent directly, and so that the upstream's own
 * requests (elicitation, sampling, roots) and notifications reach exactly this agent.
 */
export class AgentSession implements UpstreamBridge {
  readonly server: Server;
  readonly identity: SessionIdentity;
  #upstreams: UpstreamSet | undefined;
  #started = false;
  /** Agent requests now waiting on each upstream; an upstream's request is related to the only one. */
  readonly #waiting = new Map<string, Set<ServerContext>>();

  constructor(
    private readonly gateway: Gateway,
    sessionId: string,
    agent: AgentIdentity,
    private readonly onClosed: () => void,
  ) {
    this.identity = { session: sessionId, agent };
    this.server = createForwardingServer({
      serverInfo: gateway.serverInfo,
      names: gateway.names,
      recorder: gateway.recorder,
      upstreamsFor: () => Promise.resolve(this.upstreams()),
      // An agent may renew its access token during the session: each request's own is the one it holds now.
      identityFor: (ctx) => ({ ...this.identity, accessToken: accessTokenOf(ctx) }),
      whileCalling: (server, ctx, run) => this.whileCalling(server, ctx, run),
      ...(gateway.policy ? { policy: gateway.policy } : {}),
      ...(gateway.approvals ? { approvals: gateway.approvals } : {}),
      clientUserPrompt: (ctx) =>
        acceptsElicitationForm(this.server.getClientCapabilities())
          ? { via: 'elicitation/create', ask: (question, signal, timeoutMs) => ctx.mcpReq.elicitInput(question, { signal, timeout: timeoutMs }) }
          : undefined,
    });
    this.server.oninitialized = () => void this.start();
    // The agent's roots changed: upstreams that were given its roots ask for them again.
    this.server.setNotificationHandler('notifications/roots/list_changed', (notification) => this.#upstreams?.notifyAll(notification));
  }

  /** Records the session start once the agent has said who it is; refuses nothing if that fails later. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const client = this.server.getClientVersion();
    const protocol = this.server.getNegotiatedProtocolVersion();
    Object.assign(this.identity.agent, {
      ...(client ? { client: { name: client.name, version: client.version } } : {}),
      ...(protocol ? { protocol } : {}),
    });
    await this.gateway.recorder
      .event(this.identity, 'session.start', { capabilities: this.server.getClientCapabilities() ?? {} })
      .catch((error: unknown) => console.error(`agenttrail: ${error instanceof Error ? error.message : String(error)}`));
  }

  async close(): Promise<void> {
    this.onClosed();
    if (this.#started) await this.gateway.recorder.event(this.identity, 'session.end', {}).catch(() => undefined);
    await this.#upstreams?.close();
    await this.server.close().catch(() => undefined);
  }

  async forwardServerRequest(server: string, request: { method: string; params?: Record<string, unknown> }, signal: AbortSignal): Promise<Result> {
    const waiting = this.#waiting.get(server);
    const related = waiting?.size === 1 ? [...waiting][0] : undefined;
    const payload = request.params ?? {};
    return this.gateway.recorder.record(
      this.identity,
      { family: 'mcp', method: request.method, server, args: payload, payload, direction: 'server' },
      () =>
        related
          ? related.mcpReq.send(request as never, { signal })
          : (this.server.request(request as never, { signal }) as Promise<Result>),
    );
  }

  forwardNotification(_server: string, notification: Notification): void {
    const sent = (() => {
      switch (notification.method) {
        case 'notifications/tools/list_changed':
          return this.server.sendToolListChanged();
        case 'notifications/prompts/list_changed':
          return this.server.sendPromptListChanged();
        case 'notifications/resources/list_changed':
          return this.server.sendResourceListChanged();
        default:
          return this.server.notification(notification as never);
      }
    })();
    void Promise.resolve(sent).catch(() => undefined);
  }

  private upstreams(): UpstreamSet {
    this.#upstreams ??= this.gateway.openUpstreams(this.declaredCapabilities(), this, 'legacy');
    return this.#upstreams;
  }

  /** Only what the gateway can carry back to this agent is declared upstream. */
  private declaredCapabilities(): ClientCapabilities {
    return answerableCapabilities(this.server.getClientCapabilities()) ?? {};
  }

  private async whileCalling<T>(server: string, ctx: ServerContext, run: () => Promise<T>): Promise<T> {
    let waiting = this.#waiting.get(server);
    if (!waiting) this.#waiting.set(server, (waiting = new Set()));
    waiting.add(ctx);
    try {
      return await run();
    } finally {
      waiting.delete(ctx);
    }
  }
}

/** The OAuth access token the HTTP endpoint accepted for this request (see src/http/agent-authentication.ts). */
export function accessTokenOf(ctx: ServerContext): string | undefined {
  return ctx.http?.authInfo?.token;
}
