import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type Server,
  type ServerContext,
  type SubscriptionFilter,
} from '@modelcontextprotocol/server';
import type { ServerConfig } from '../config/config-schema.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { acceptsElicitationForm } from '../approvals/client-user-approval.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import { AgentSession, accessTokenOf } from './agent-session.js';
import { approvalRoundPrompt } from './approval-rounds.js';
import { answerableCapabilities } from './answerable-capabilities.js';
import type { CallCredentials } from './call-credentials.js';
import { CallRecorder, type EntrySink } from './call-recorder.js';
import type { ApprovalChannels } from './held-for-approval.js';
import { ExclusiveUpstreams } from './exclusive-upstreams.js';
import { createForwardingServer } from './forwarding-server.js';
import { InputRounds } from './input-rounds.js';
import { QualifiedNames } from './qualified-names.js';
import { RoundStates } from './round-states.js';
import type { UpstreamBridge, UpstreamConnectionOptions } from './upstream-connection.js';
import type { UpstreamRuntime } from './upstream-transport.js';
import { UpstreamSet } from './upstream-set.js';
import { WantedNotifications } from './wanted-notifications.js';

export interface GatewayOptions {
  servers: ReadonlyMap<string, ServerConfig>;
  separator: string;
  /** False keeps upstream names as they are; only for a single upstream (`agenttrail wrap`). */
  prefixNames?: boolean;
  sink: EntrySink;
  /** Which credentials go with which requests (see src/credentials/credential-broker.ts). */
  credentials?: CallCredentials;
  /** Decides each tool call and resource read (see src/policy); none: every call goes upstream. */
  policy?: PolicyGate;
  /** Where calls held for approval wait for their approvers (see src/approvals); none: they are refused. */
  approvals?: ApprovalChannels;
  /**
   * Where an upstream's diagnostics go (the operator's terminal), never into the agent's stream: its
   * stderr, and lines on its stdout that are no messages, marked `(on stdout)`.
   */
  onStderrLine?: (server: string, line: string) => void;
  /** How stdio servers are started and HTTP requests sent (the Node edge); without it only HTTP servers, over fetch. */
  upstreamRuntime?: UpstreamRuntime;
}

/**
 * The runtime-neutral heart: which upstreams exist, how names are spaced, where entries go. Transports
 * (stdio, HTTP) ask it for a server per agent session, or per stateless request.
 */
export class Gateway {
  readonly serverInfo: Implementation = { name: 'agenttrail', version: AGENTTRAIL_VERSION };
  readonly names: QualifiedNames;
  readonly recorder: CallRecorder;
  readonly policy: PolicyGate | undefined;
  readonly approvals: ApprovalChannels | undefined;
  /** Called with list_changed and resource updates from the upstreams that serve stateless requests. */
  onStatelessNotification: (notification: Notification) => void = () => undefined;
  readonly #sessions = new Set<AgentSession>();
  readonly #stateless = new Map<string, UpstreamSet>();
  readonly #roundStates = new RoundStates();
  readonly #inputRounds = new InputRounds(this.#roundStates);
  /** What the stateless agents' subscriptions/listen streams asked for, across all of them. */
  readonly #statelessWanted = new WantedNotifications();
  // Bridging input rounds needs the upstream's requests in the middle of a call: 2025-11-25 connections.
  readonly #lentUpstreams = new ExclusiveUpstreams(
    (capabilities, bridge) => this.#asked(this.openUpstreams(capabilities, bridge, 'legacy')),
    (notification) => this.onStatelessNotification(notification),
  );

  constructor(private readonly options: GatewayOptions) {
    this.names = new QualifiedNames(options.separator, [...options.servers.keys()], options.prefixNames ?? true);
    this.recorder = new CallRecorder(options.sink, options.credentials);
    this.policy = options.policy;
    this.approvals = options.approvals;
  }

  openSession(sessionId: string, agent: AgentIdentity): AgentSession {
    const session = new AgentSession(this, sessionId, agent, () => this.#sessions.delete(session));
    this.#sessions.add(session);
    return session;
  }

  openUpstreams(clientCapabilities: ClientCapabilities, bridge: UpstreamBridge, agentEra: UpstreamConnectionOptions['agentEra']): UpstreamSet {
    return new UpstreamSet(this.options.servers, {
      clientInfo: this.serverInfo,
      clientCapabilities,
      agentEra,
      bridge,
      ...(this.options.onStderrLine ? { onStderrLine: this.options.onStderrLine } : {}),
      runtime: this.options.upstreamRuntime,
      ...(this.options.credentials ? { credentialHeaders: (server: string) => this.options.credentials!.headersFor(server) } : {}),
    });
  }

  /**
   * A server for one 2026-07-28 request. Stateless agents share one set of upstream connections, and
   * a reviewer's "session" for them is the agent's stable identity (client name, version, address),
   * or `session` where the transport has one (a stdio connection).
   */
  statelessServer(transportAgent: AgentIdentity, session?: string): Server {
    return createForwardingServer({
      serverInfo: this.serverInfo,
      names: this.names,
      recorder: this.recorder,
      // Lists come from upstreams that were told what this agent can answer, so that they offer it
      // the tools they would offer it directly.
      upstreamsFor: (ctx) => Promise.resolve(this.statelessUpstreams(answerableCapabilitiesOf(ctx))),
      identityFor: (ctx) => statelessIdentity(transportAgent, ctx, session),
      upstreamEnvelope: upstreamEnvelopeOf,
      ...(this.policy ? { policy: this.policy } : {}),
      ...(this.approvals ? { approvals: this.approvals } : {}),
      clientUserPrompt: (ctx, where) => (acceptsElicitationForm(answerableCapabilitiesOf(ctx)) ? approvalRoundPrompt(this.#roundStates, ctx, where) : undefined),
      interactive: {
        states: this.#roundStates,
        rounds: this.#inputRounds,
        declared: answerableCapabilitiesOf,
        lend: (capabilities, ask) => this.#lentUpstreams.lend(capabilities, ask),
      },
    });
  }

  /**
   * A stateless agent opened subscriptions/listen: every stateless upstream is asked for what it
   * wants (a 2026-07-28 upstream on a listen stream of its own, a 2025-era one with
   * resources/subscribe), and the shared upstreams start now, since a change can happen before the
   * agent calls anything. Resolves once the running upstreams have been asked.
   */
  async listenForStatelessAgents(filter: SubscriptionFilter): Promise<void> {
    if (!this.#statelessWanted.add(filter)) return;
    const shared = this.statelessUpstreams();
    // Calls of agents that answer questions run on lent sets, whose servers notify what they change.
    const sets = [...this.#stateless.values(), ...this.#lentUpstreams.sets()];
    await Promise.all(sets.map((upstreams) => upstreams.subscribe(filter)));
    await Promise.all(shared.servers.map((server) => shared.capabilitiesOf(server).catch(() => undefined)));
  }

  /** A new set of stateless agents' upstreams, asked for what those agents listen to so far. */
  #asked(upstreams: UpstreamSet): UpstreamSet {
    const wanted = this.#statelessWanted.all;
    if (wanted) void upstreams.subscribe(wanted);
    return upstreams;
  }

  /** Upstreams shared by the stateless agents that can answer the same questions. */
  private statelessUpstreams(capabilities: ClientCapabilities = {}): UpstreamSet {
    const profile = JSON.stringify(capabilities);
    let upstreams = this.#stateless.get(profile);
    if (!upstreams) {
      upstreams = this.openUpstreams(
        capabilities,
        {
          forwardServerRequest: (server, request) =>
            Promise.reject(new Error(`upstream '${server}' sent ${request.method} outside of any call`)),
          forwardNotification: (_server, notification) => this.onStatelessNotification(notification),
        },
        'modern',
      );
      this.#stateless.set(profile, this.#asked(upstreams));
    }
    return upstreams;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => session.close()));
    await Promise.all([...this.#stateless.values()].map((upstreams) => upstreams.close()));
    await this.#lentUpstreams.close();
  }
}

function answerableCapabilitiesOf(ctx: ServerContext): ClientCapabilities | undefined {
  return answerableCapabilities(envelopeOf(ctx)[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined);
}

/**
 * What a 2026-07-28 upstream is told about the agent on each request: the capabilities the gateway
 * can carry back (its input requests pass through), and the log level the agent asked for.
 */
function upstreamEnvelopeOf(ctx: ServerContext): Record<string, unknown> {
  const logLevel = envelopeOf(ctx)[LOG_LEVEL_META_KEY];
  return {
    [CLIENT_CAPABILITIES_META_KEY]: answerableCapabilitiesOf(ctx) ?? {},
    ...(logLevel === undefined ? {} : { [LOG_LEVEL_META_KEY]: logLevel }),
  };
}

function envelopeOf(ctx: ServerContext): Record<string, unknown> {
  return (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
}

function statelessIdentity(transportAgent: AgentIdentity, ctx: ServerContext, connection: string | undefined) {
  const envelope = envelopeOf(ctx);
  const client = envelope[CLIENT_INFO_META_KEY] as Implementation | undefined;
  const protocol = envelope[PROTOCOL_VERSION_META_KEY];
  const agent: AgentIdentity = {
    ...transportAgent,
    ...(client ? { client: { name: client.name, version: client.version } } : {}),
    ...(typeof protocol === 'string' ? { protocol } : {}),
  };
  // Two agents (or two people behind one agent) at the same address are two sessions.
  const session =
    connection ?? `stateless-${canonicalHash([agent.client?.name ?? '', agent.client?.version ?? '', agent.remote ?? '', agent.id ?? '', agent.subject ?? '']).slice(0, 16)}`;
  return { session, agent, accessToken: accessTokenOf(ctx) };
}
