import { isSpecType, STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, MessageExtraInfo, Notification, Server, SubscriptionFilter, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { Gateway } from '../gateway/gateway.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { checkAgentLines } from './agent-line-check.js';

/** What a 2026-07-28 agent can ask for on its subscriptions/listen streams. */
const CHANGE_NOTIFICATIONS = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
]);

/**
 * Serves the one agent of `agenttrail wrap` on this process's stdin and stdout, in the revision its
 * first message speaks (the SDK's serveStdio decides, once per connection). A 2025-11-25 agent gets
 * an agent session of its own. A 2026-07-28 agent is served as the HTTP endpoint serves one: the
 * upstreams' questions come to it as input rounds, and their list_changed and resources/updated
 * reach its subscriptions/listen streams, which serveStdio keeps itself. A line that is no
 * JSON-RPC message is answered with an error (see checkAgentLines).
 */
export function serveAgentOverStdio(gateway: Gateway, agent: AgentIdentity, onerror: (error: Error) => void): StdioServerHandle {
  const connection = crypto.randomUUID();
  let modern: Server | undefined;
  gateway.onStatelessNotification = (notification) => {
    if (!modern || !CHANGE_NOTIFICATIONS.has(notification.method)) return;
    // serveStdio passes each change on to the listen streams that asked for it, and drops the rest.
    modern.notification(notification as Notification).catch(onerror);
  };
  const input = checkAgentLines(process.stdin, STDIO_DEFAULT_MAX_BUFFER_SIZE, (line) => process.stdout.write(line));
  const wire = new ListenWatchingTransport(new StdioServerTransport(input, process.stdout), (filter) => gateway.listenForStatelessAgents(filter));
  return serveStdio(
    ({ era }) => {
      if (era === 'legacy') {
        // The agent fell back from server/discover to initialize: the probe instance is gone.
        modern = undefined;
        return gateway.openSession(connection, { ...agent }).server;
      }
      modern = gateway.statelessServer({ ...agent }, connection);
      return modern;
    },
    { transport: wire, onerror },
  );
}

/**
 * The agent's stdio, with the upstreams asked for the notifications a subscriptions/listen request
 * names before serveStdio acknowledges it (serveStdio answers listen requests itself, out of the
 * gateway's sight). Messages keep their order: the ones after a listen wait for it.
 */
class ListenWatchingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #delivered: Promise<void> = Promise.resolve();

  constructor(
    private readonly wire: Transport,
    private readonly listenUpstream: (filter: SubscriptionFilter) => Promise<void>,
  ) {}

  start(): Promise<void> {
    this.wire.onclose = () => this.onclose?.();
    this.wire.onerror = (error) => this.onerror?.(error);
    this.wire.onmessage = (message, extra) => {
      this.#delivered = this.#delivered.then(() => this.deliver(message, extra)).catch((error: unknown) => this.report(error));
    };
    return this.wire.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.wire.send(message, options);
  }

  close(): Promise<void> {
    return this.wire.close();
  }

  private async deliver(message: JSONRPCMessage, extra: MessageExtraInfo | undefined): Promise<void> {
    // An upstream that cannot be subscribed leaves the listen request acknowledged all the same; a
    // malformed listen is the SDK's to refuse.
    if (isSpecType.SubscriptionsListenRequest(message)) {
      await this.listenUpstream(message.params.notifications).catch((error: unknown) => this.report(error));
    }
    this.onmessage?.(message, extra);
  }

  private report(error: unknown): void {
    this.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }
}
