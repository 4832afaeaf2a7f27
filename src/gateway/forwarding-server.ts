import {
  ProtocolError,
  ProtocolErrorCode,
  Server,
  isInputRequiredResult,
  type Implementation,
  type Notification,
  type Progress,
  type ProgressToken,
  type RequestMethod,
  type Result,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ClientCapabilities } from '@modelcontextprotocol/server';
import type { Asker, LentUpstreams } from './exclusive-upstreams.js';
import type { InputRounds } from './input-rounds.js';
import { encodeListCursor, decodeListCursor } from './list-cursor.js';
import type { QualifiedNames } from './qualified-names.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { CallRecorder, RecordedCall, SessionIdentity } from './call-recorder.js';
import type { ApprovalChannels, ClientUserPrompt } from './held-for-approval.js';
import { decideCall, type PolicedCall } from './policed-call.js';
import { roundStateOf, type RoundState, type RoundStates, type RoundTarget } from './round-states.js';
import { withUnknownToolNamed } from './unknown-tool.js';
import type { UpstreamConnection, UpstreamRequestOptions } from './upstream-connection.js';
import type { UpstreamSet } from './upstream-set.js';

/** What a forwarding server needs from the session or request it serves. */
export interface ForwardingContext {
  serverInfo: Implementation;
  names: QualifiedNames;
  recorder: CallRecorder;
  upstreamsFor(ctx: ServerContext): Promise<UpstreamSet>;
  identityFor(ctx: ServerContext): SessionIdentity;
  /** Wraps each upstream call, so that a session can tell which agent request an upstream's own requests belong to. */
  whileCalling?<T>(server: string, ctx: ServerContext, run: () => Promise<T>): Promise<T>;
  /** For 2026-07-28 agents: calls whose upstream may ask the agent something run across input rounds. */
  interactive?: InteractiveCalls;
  /** For 2026-07-28 agents: the `_meta` envelope keys of the agent's request that go upstream with it. */
  upstreamEnvelope?(ctx: ServerContext): Record<string, unknown>;
  /** Decides each tools/call and resources/read before it is recorded; none: every call goes upstream. */
  policy?: PolicyGate;
  /** Where calls held for approval wait; none: such calls are refused. */
  approvals?: ApprovalChannels;
  /** How the user at the agent's client can be asked to approve a held call; none: they cannot be. */
  clientUserPrompt?(ctx: ServerContext, where: RoundTarget): ClientUserPrompt | undefined;
}

export interface InteractiveCalls {
  /** Seals the requestState the agent echoes, so that a round stays with the upstream call it belongs to. */
  states: RoundStates;
  /** Bridges a 2025-era upstream's requests into rounds. */
  rounds: InputRounds;
  /** What to declare upstream for this agent request; undefined when the agent can answer nothing. */
  declared(ctx: ServerContext): ClientCapabilities | undefined;
  lend(capabilities: ClientCapabilities, ask: Asker): LentUpstreams;
}

/**
 * Everything an aggregating gateway may be asked for. The set is fixed rather than copied from the
 * upstreams because upstreams start lazily and may come and go; a kind no upstream offers lists empty.
 */
export const GATEWAY_CAPABILITIES: ServerCapabilities = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  completions: {},
  logging: {},
};

type ListedKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
const LIST_CAPABILITY: Record<ListedKind, keyof ServerCapabilities> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/** A downstream MCP server whose every handler forwards to the upstreams and records the exchange. */
export function createForwardingServer(context: ForwardingContext): Server {
  const server = new Server(context.serverInfo, {
    capabilities: GATEWAY_CAPABILITIES,
    ...(context.interactive ? { requestState: { verify: context.interactive.states.verify } } : {}),
  });
  const forward = new Forwarder(context);

  server.setRequestHandler('tools/list', (request, ctx) => forward.list(ctx, 'tools/list', 'tools', request.params?.cursor) as never);
  server.setRequestHandler('prompts/list', (request, ctx) => forward.list(ctx, 'prompts/list', 'prompts', request.params?.cursor) as never);
  server.setRequestHandler('resources/list', (request, ctx) => forward.list(ctx, 'resources/list', 'resources', request.params?.cursor) as never);
  server.setRequestHandler('resources/templates/list', (request, ctx) =>
    forward.list(ctx, 'resources/templates/list', 'resourceTemplates', request.params?.cursor) as never,
  );
  server.setRequestHandler('tools/call', (request, ctx) => forward.byName(ctx, 'tools/call', 'tool', request.params) as never);
  server.setRequestHandler('prompts/get', (request, ctx) => forward.byName(ctx, 'prompts/get', 'prompt', request.params) as never);
  server.setRequestHandler('resources/read', (request, ctx) => forward.byUri(ctx, 'resources/read', request.params) as never);
  server.setRequestHandler('resources/subscribe', (request, ctx) => forward.byUri(ctx, 'resources/subscribe', request.params) as never);
  server.setRequestHandler('resources/unsubscribe', (request, ctx) => forward.byUri(ctx, 'resources/unsubscribe', request.params) as never);
  server.setRequestHandler('completion/complete', (request, ctx) => forward.completion(ctx, request.params) as never);
  server.setRequestHandler('logging/setLevel', (request, ctx) => forward.setLevel(ctx, request.params) as never);
  return server;
}

class Forwarder {
  constructor(private readonly context: ForwardingContext) {}

  /** One gateway page is one upstream page; the cursor names the upstream that comes next. */
  async list(ctx: ServerContext, method: RequestMethod, kind: ListedKind, cursor: string | undefined): Promise<Result> {
    const upstreams = await this.context.upstreamsFor(ctx);
    return this.context.recorder.record(this.context.identityFor(ctx), { family: 'mcp', method, payload: { cursor } }, async () => {
      let position = cursor === undefined ? undefined : decodeListCursor(cursor);
      let serverIndex = position === undefined ? 0 : upstreams.servers.indexOf(position.server);
      if (serverIndex < 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid cursor: upstream '${position?.server}' is no longer configured`);
      for (; serverIndex < upstreams.servers.length; serverIndex += 1, position = undefined) {
        const server = upstreams.servers[serverIndex]!;
        const capabilities = await upstreams.capabilitiesOf(server).catch((error: unknown) => {
          console.error(`agenttrail: ${method} skips upstream '${server}': ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        });
        if (!capabilities?.[LIST_CAPABILITY[kind]]) continue;
        const page = await this.call(ctx, upstreams, server, method, position?.cursor === undefined ? undefined : { cursor: position.cursor });
        const items = ((page as Record<string, unknown>)[kind] ?? []) as Record<string, unknown>[];
        const renamed = items.map((item) => this.rename(upstreams, server, kind, item));
        const next = typeof page.nextCursor === 'string'
          ? encodeListCursor({ server, cursor: page.nextCursor })
          : upstreams.servers[serverIndex + 1] === undefined ? undefined : encodeListCursor({ server: upstreams.servers[serverIndex + 1]! });
        if (renamed.length === 0 && next !== undefined && typeof page.nextCursor !== 'string') continue;
        return { [kind]: renamed, ...(next === undefined ? {} : { nextCursor: next }) };
      }
      return { [kind]: [] };
    });
  }

  /** tools/call and prompts/get: the agent's `<server>__<name>` is routed and renamed back. */
  async byName(ctx: ServerContext, method: 'tools/call' | 'prompts/get', what: string, params: { name: string; arguments?: unknown }): Promise<Result> {
    const target = this.context.names.resolve(params.name, what);
    const upstreams = await this.context.upstreamsFor(ctx);
    const recorded: RecordedCall = {
      family: method === 'tools/call' ? 'tool' : 'mcp',
      method,
      server: target.server,
      tool: target.name,
      name: params.name,
      args: params.arguments ?? {},
      payload: params,
      signal: ctx.mcpReq.signal,
    };
    const call = method === 'tools/call' ? this.policed(ctx, upstreams, recorded, { kind: 'tool', server: target.server, target: target.name, args: recorded.args }) : recorded;
    const forwarded = { ...params, name: target.name };
    const where = { server: target.server, target: target.name };
    const states = await this.passesRoundsThrough(upstreams, target.server);
    if (states) return this.passRoundThrough(states, ctx, upstreams, call, where, method, forwarded);
    return (
      this.acrossInputRounds(ctx, call, where, method, forwarded) ??
      this.context.recorder.record(this.context.identityFor(ctx), call, (headers) =>
        this.namingUnknownTool(call, upstreams.connection(target.server), this.call(ctx, upstreams, target.server, method, forwarded, { headers })),
      )
    );
  }

  async byUri(ctx: ServerContext, method: RequestMethod, params: { uri: string }): Promise<Result> {
    const upstreams = await this.context.upstreamsFor(ctx);
    const server = await upstreams.ownerOfResource(params.uri, () => this.learnResources(ctx, upstreams));
    const recorded: RecordedCall = { family: 'mcp', method, server, tool: params.uri, args: params, payload: params };
    if (method !== 'resources/read') {
      return this.context.recorder.record(this.context.identityFor(ctx), recorded, (headers) => this.call(ctx, upstreams, server, method, params, { headers }));
    }
    const call = this.policed(ctx, upstreams, recorded, { kind: 'resource', server, target: params.uri, args: params });
    const where = { server, target: params.uri };
    const states = await this.passesRoundsThrough(upstreams, server);
    if (states) return this.passRoundThrough(states, ctx, upstreams, call, where, method, params);
    return (
      this.acrossInputRounds(ctx, call, where, method, params) ??
      this.context.recorder.record(this.context.identityFor(ctx), call, (headers) => this.call(ctx, upstreams, server, method, params, { headers }))
    );
  }

  /** The call, to be decided by the policy (if there is one) just before it is recorded. */
  private policed(ctx: ServerContext, upstreams: UpstreamSet, call: RecordedCall, asked: PolicedCall): RecordedCall {
    const policy = this.context.policy;
    if (!policy) return call;
    const progressToken = ctx.mcpReq._meta?.progressToken;
    const waiting = {
      signal: ctx.mcpReq.signal,
      progress: (progress: number, total: number, message: string) => {
        if (progressToken !== undefined) notifyQuietly(ctx, progressNotification({ progress, total, message }, progressToken));
      },
      user: this.context.clientUserPrompt?.(ctx, { server: asked.server, target: asked.target }),
    };
    return { ...call, decide: () => decideCall(policy, this.context.approvals, this.context.identityFor(ctx), upstreams, asked, waiting) };
  }

  /**
   * A 2026-07-28 agent and an upstream that speaks 2026-07-28 to the gateway: rounds pass through,
   * sealed with what this returns. Undefined: they do not.
   */
  private async passesRoundsThrough(upstreams: UpstreamSet, server: string): Promise<RoundStates | undefined> {
    const interactive = this.context.interactive;
    if (!interactive) return undefined;
    // An upstream that cannot be reached is left to the usual path, which records why.
    const modern = await upstreams.connection(server).speaksModern().catch(() => false);
    return modern ? interactive.states : undefined;
  }

  /**
   * One round of a multi-round-trip call, forwarded as it is: the agent's answers and the upstream's
   * own requestState go up, the upstream's inputRequests come back with their own keys. Each round is
   * an exchange of its own in the log; the agent's answers are in its request entry.
   */
  private passRoundThrough(
    states: RoundStates,
    ctx: ServerContext,
    upstreams: UpstreamSet,
    call: RecordedCall,
    where: RoundTarget,
    method: RequestMethod,
    params: Record<string, unknown>,
  ): Promise<Result> {
    const { server, target } = where;
    const echoed = ctx.mcpReq.requestState<RoundState>();
    // Answers to the gateway's own approval question are not the upstream's to read.
    const inputResponses = echoed?.via === 'approval' ? undefined : ctx.mcpReq.inputResponses;
    const answers = {
      ...(inputResponses ? { inputResponses } : {}),
      ...(echoed === undefined ? {} : { requestState: echoed }),
    };
    const round: RecordedCall = { ...call, payload: { ...(call.payload as Record<string, unknown>), ...answers } };
    return this.context.recorder.record(this.context.identityFor(ctx), round, async (headers) => {
      const earlier = roundStateOf(ctx, 'upstream', where);
      const sent = { ...params, ...(inputResponses ? { inputResponses } : {}), ...(earlier ? { requestState: earlier.state } : {}) };
      const result = await this.call(ctx, upstreams, server, method, sent, { allowInputRequired: true, headers });
      if (!isInputRequiredResult(result) || result.requestState === undefined) return result;
      return { ...result, requestState: await states.seal({ via: 'upstream', server, target, state: result.requestState }, ctx) };
    });
  }

  /**
   * A 2026-07-28 agent that can answer questions gets its call run on upstream connections lent to
   * it alone, across as many input rounds as the upstream asks questions. Undefined: not applicable.
   */
  private acrossInputRounds(ctx: ServerContext, call: RecordedCall, where: RoundTarget, method: RequestMethod, params: Record<string, unknown>): Promise<Result> | undefined {
    const interactive = this.context.interactive;
    const capabilities = interactive?.declared(ctx);
    if (!interactive || !capabilities) return undefined;
    const who = this.context.identityFor(ctx);
    const { server } = where;
    return interactive.rounds.serve(ctx, where, (rounds) => {
      const lent = interactive.lend(capabilities, (asking, question) =>
        this.context.recorder.record(
          who,
          { family: 'mcp', method: question.method, server: asking, args: question.params ?? {}, payload: question.params ?? {}, direction: 'server' },
          () => rounds.ask(question),
        ),
      );
      const progressToken = ctx.mcpReq._meta?.progressToken;
      return this.context.recorder
        .record(who, { ...call, signal: rounds.signal }, (headers) => {
          const connection = lent.upstreams.connection(server);
          return this.namingUnknownTool(
            call,
            connection,
            connection.request(method, params, {
              signal: rounds.signal,
              headers,
              ...(progressToken === undefined ? {} : { onprogress: (progress) => notifyQuietly(rounds.round, progressNotification(progress, progressToken)) }),
            }),
          );
        })
        .finally(lent.release);
    });
  }

  async completion(ctx: ServerContext, params: { ref: { type: string; name?: string; uri?: string } } & Record<string, unknown>): Promise<Result> {
    const upstreams = await this.context.upstreamsFor(ctx);
    let server: string;
    let ref = params.ref;
    if (ref.type === 'ref/prompt' && ref.name !== undefined) {
      const target = this.context.names.resolve(ref.name, 'prompt');
      server = target.server;
      ref = { ...ref, name: target.name };
    } else if (ref.uri !== undefined) {
      server = await upstreams.ownerOfResource(ref.uri, () => this.learnResources(ctx, upstreams));
    } else {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `completion/complete: unsupported reference type '${ref.type}'`);
    }
    const call: RecordedCall = { family: 'mcp', method: 'completion/complete', server, tool: ref.name ?? ref.uri, args: params, payload: params };
    return this.context.recorder.record(this.context.identityFor(ctx), call, (headers) =>
      this.call(ctx, upstreams, server, 'completion/complete', { ...params, ref }, { headers }),
    );
  }

  /** The agent's log level applies to every upstream that logs. */
  async setLevel(ctx: ServerContext, params: { level: string }): Promise<Result> {
    const upstreams = await this.context.upstreamsFor(ctx);
    return this.context.recorder.record(this.context.identityFor(ctx), { family: 'mcp', method: 'logging/setLevel', args: params, payload: params }, async () => {
      for (const server of upstreams.servers) {
        const capabilities = await upstreams.capabilitiesOf(server).catch(() => undefined);
        if (capabilities?.logging) await this.call(ctx, upstreams, server, 'logging/setLevel', params);
      }
      return {};
    });
  }

  /** A failed tools/call of a tool the upstream does not have names the tool as the agent called it. */
  private namingUnknownTool(call: RecordedCall, connection: UpstreamConnection, answer: Promise<Result>): Promise<Result> {
    if (call.method !== 'tools/call' || call.server === undefined || call.tool === undefined || call.name === undefined) return answer;
    return withUnknownToolNamed({ server: call.server, calledAs: call.name, tool: call.tool }, connection, answer);
  }

  private call(
    ctx: ServerContext,
    upstreams: UpstreamSet,
    server: string,
    method: RequestMethod,
    params: Record<string, unknown> | undefined,
    options: Pick<UpstreamRequestOptions, 'allowInputRequired' | 'headers'> = {},
  ): Promise<Result> {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    const envelope = this.context.upstreamEnvelope?.(ctx);
    const run = () =>
      upstreams.connection(server).request(method, params, {
        signal: ctx.mcpReq.signal,
        ...options,
        ...(envelope ? { envelope } : {}),
        ...(progressToken === undefined
          ? {}
          : { onprogress: (progress) => notifyQuietly(ctx, progressNotification(progress, progressToken)) }),
      });
    return this.context.whileCalling ? this.context.whileCalling(server, ctx, run) : run();
  }

  private rename(upstreams: UpstreamSet, server: string, kind: ListedKind, item: Record<string, unknown>): Record<string, unknown> {
    if (kind === 'resources' && typeof item.uri === 'string') upstreams.noteResource(server, item.uri);
    if (kind === 'resourceTemplates' && typeof item.uriTemplate === 'string') upstreams.noteTemplate(server, item.uriTemplate);
    if (kind === 'tools' && typeof item.name === 'string') upstreams.noteTool(server, item.name, item.annotations);
    return typeof item.name === 'string' ? { ...item, name: this.context.names.qualify(server, item.name) } : item;
  }

  /** Lists every upstream's resources and templates to learn who owns which URI. */
  private async learnResources(ctx: ServerContext, upstreams: UpstreamSet): Promise<void> {
    for (const server of upstreams.servers) {
      const capabilities = await upstreams.capabilitiesOf(server).catch(() => undefined);
      if (!capabilities?.resources) continue;
      for (const [method, kind] of [['resources/list', 'resources'], ['resources/templates/list', 'resourceTemplates']] as const) {
        let cursor: string | undefined;
        do {
          const page = await this.call(ctx, upstreams, server, method, cursor === undefined ? undefined : { cursor });
          for (const item of ((page as Record<string, unknown>)[kind] ?? []) as Record<string, unknown>[]) this.rename(upstreams, server, kind, item);
          cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
        } while (cursor !== undefined);
      }
    }
  }
}

function progressNotification(progress: Progress, progressToken: ProgressToken): Notification {
  return { method: 'notifications/progress', params: { ...progress, progressToken } };
}

/** Progress for an agent that has gone away is dropped; it must not take the gateway down. */
function notifyQuietly(ctx: ServerContext, notification: Notification): void {
  ctx.mcpReq.notify(notification).catch(() => undefined);
}
