import {
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ServerConfig } from '../config/config-schema.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import { AgentSession } from './agent-session.js';
import { CallRecorder, type EntrySink } from './call-recorder.js';
import { createForwardingServer } from './forwarding-server.js';
import { QualifiedNames } from './qualified-names.js';
import type { UpstreamBridge } from './upstream-connection.js';
import { UpstreamSet } from './upstream-set.js';

export interface GatewayOptions {
  servers: ReadonlyMap<string, ServerConfig>;
  separator: string;
  /** False keeps upstream names as they are; only for a single upstream (`agenttrail wrap`). */
  prefixNames?: boolean;
  sink: EntrySink;
  /** Where an upstream's stderr goes (the operator's terminal); never into the agent's stream. */
  onStderrLine?: (server: string, line: string) => void;
}

/**
 * The runtime-neutral heart: which upstreams exist, how names are spaced, where entries go. Transports
 * (stdio, HTTP) ask it for a server per agent session, or per stateless request.
 */
export class Gateway {
  readonly serverInfo: Implementation = { name: 'agenttrail', version: AGENTTRAIL_VERSION };
  readonly names: QualifiedNames;
  readonly recorder: CallRecorder;
  /** Called with list_changed and resource updates from the upstreams that serve stateless requests. */
  onStatelessNotification: (notification: Notification) => void = () => undefined;
  readonly #sessions = new Set<AgentSession>();
  #stateless: UpstreamSet | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.names = new QualifiedNames(options.separator, [...options.servers.keys()], options.prefixNames ?? true);
    this.recorder = new CallRecorder(options.sink);
  }

  openSession(sessionId: string, agent: AgentIdentity): AgentSession {
    const session = new AgentSession(this, sessionId, agent);
    this.#sessions.add(session);
    const close = session.close.bind(session);
    session.close = async () => {
      this.#sessions.delete(session);
      await close();
    };
    return session;
  }

  openUpstreams(clientCapabilities: ClientCapabilities, bridge: UpstreamBridge): UpstreamSet {
    return new UpstreamSet(this.options.servers, {
      clientInfo: this.serverInfo,
      clientCapabilities,
      bridge,
      ...(this.options.onStderrLine ? { onStderrLine: this.options.onStderrLine } : {}),
    });
  }

  /**
   * A server for one 2026-07-28 request. Stateless agents share one set of upstream connections, and
   * a reviewer's "session" for them is the agent's stable identity (client name, version, address).
   */
  statelessServer(transportAgent: AgentIdentity): Server {
    const upstreams = (this.#stateless ??= this.openUpstreams({}, {
      forwardServerRequest: (server, request) =>
        Promise.reject(new Error(`upstream '${server}' sent ${request.method}, which stateless agents cannot be asked`)),
      forwardNotification: (_server, notification) => this.onStatelessNotification(notification),
    }));
    return createForwardingServer({
      serverInfo: this.serverInfo,
      names: this.names,
      recorder: this.recorder,
      upstreamsFor: () => Promise.resolve(upstreams),
      identityFor: (ctx) => statelessIdentity(transportAgent, ctx),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => session.close()));
    await this.#stateless?.close();
  }
}

function statelessIdentity(transportAgent: AgentIdentity, ctx: ServerContext) {
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const client = envelope[CLIENT_INFO_META_KEY] as Implementation | undefined;
  const protocol = envelope[PROTOCOL_VERSION_META_KEY];
  const agent: AgentIdentity = {
    ...transportAgent,
    ...(client ? { client: { name: client.name, version: client.version } } : {}),
    ...(typeof protocol === 'string' ? { protocol } : {}),
  };
  const session = `stateless-${canonicalHash([agent.client?.name ?? '', agent.client?.version ?? '', agent.remote ?? '']).slice(0, 16)}`;
  return { session, agent };
}
