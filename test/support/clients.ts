// Real SDK v2 clients for the tests, pinned to one protocol revision, that keep every notification
// they receive so a test can compare what arrives directly with what arrives through the gateway.
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type {
  ClientCapabilities,
  ClientContext,
  FetchLike,
  HandlerResultTypeMap,
  JSONRPCNotification,
  MessageExtraInfo,
  RequestTypeMap,
  Transport,
  VersionNegotiationOptions,
} from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { StdioLaunch } from './upstream-servers.js';

/** The two revisions the gateway serves downstream. `'auto'` probes `server/discover` and falls
 * back to the 2025 `initialize` handshake, as a client that does not know the server would. */
export type ClientRevision = '2025-11-25' | '2026-07-28';
export const REVISIONS: readonly ClientRevision[] = ['2025-11-25', '2026-07-28'];

type Handler<M extends 'elicitation/create' | 'sampling/createMessage' | 'roots/list'> = (
  request: RequestTypeMap[M],
  ctx: ClientContext,
) => HandlerResultTypeMap[M] | Promise<HandlerResultTypeMap[M]>;

/** Answers to server-to-client requests. Giving a handler declares the matching capability
 * unless `capabilities` already declares it. */
export interface ClientHandlers {
  elicitation?: Handler<'elicitation/create'>;
  sampling?: Handler<'sampling/createMessage'>;
  roots?: Handler<'roots/list'>;
}

export type ClientTarget =
  | { transport: 'stdio'; server: StdioLaunch }
  | { transport: 'http'; url: URL | string; headers?: Record<string, string>; fetch?: FetchLike }
  | { transport: 'sse'; url: URL | string; headers?: Record<string, string> };

export type ConnectClientOptions = ClientTarget & {
  revision: ClientRevision | 'auto';
  capabilities?: ClientCapabilities;
  handlers?: ClientHandlers;
  /** `clientInfo.name`; defaults to `agenttrail-test-client`. */
  name?: string;
  /** Timeout for the connect handshake (and the probe), in ms. */
  connectTimeoutMs?: number;
};

/** One inbound notification as it came off the wire (after the SDK lifted the `_meta` envelope). */
export interface ReceivedNotification {
  method: string;
  params: Record<string, unknown> | undefined;
  /** `performance.now()` when it arrived. */
  at: number;
}

export interface ConnectedClient {
  client: Client;
  /** Every notification received since the handshake started, in arrival order. */
  notifications: ReceivedNotification[];
  /** Errors the SDK reported out of band (dropped requests, unknown progress tokens, ...). */
  errors: Error[];
  /** What the stdio server printed on stderr (empty for HTTP/SSE). */
  serverStderr(): string;
  /** Resolves with the first notification (already received or still to come) that matches;
   * rejects after `timeoutMs` listing what did arrive. */
  waitFor(predicate: (notification: ReceivedNotification) => boolean, timeoutMs?: number): Promise<ReceivedNotification>;
  close(): Promise<void>;
}

type Listener = (notification: ReceivedNotification) => void;

// Recording at `_onnotification` sees every notification, including `notifications/progress`,
// which the SDK consumes itself to drive `onprogress` and never passes to handlers.
class RecordingClient extends Client {
  readonly received: ReceivedNotification[] = [];
  readonly listeners = new Set<Listener>();

  protected override _onnotification(raw: JSONRPCNotification, extra?: MessageExtraInfo): void {
    const params = raw.params === undefined ? undefined : { ...raw.params };
    const notification: ReceivedNotification = { method: raw.method, params, at: performance.now() };
    this.received.push(notification);
    for (const listener of this.listeners) listener(notification);
    super._onnotification(raw, extra);
  }
}

export async function connectClient(options: ConnectClientOptions): Promise<ConnectedClient> {
  const capabilities = capabilitiesFor(options.capabilities ?? {}, options.handlers ?? {});
  const client = new RecordingClient(
    { name: options.name ?? 'agenttrail-test-client', version: '1.0.0' },
    { capabilities, versionNegotiation: negotiationFor(options.revision) },
  );
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);

  const { elicitation, sampling, roots } = options.handlers ?? {};
  if (elicitation !== undefined) client.setRequestHandler('elicitation/create', elicitation);
  if (sampling !== undefined) client.setRequestHandler('sampling/createMessage', sampling);
  if (roots !== undefined) client.setRequestHandler('roots/list', roots);

  const { transport, stderr } = transportFor(options);
  const connectOptions = options.connectTimeoutMs === undefined ? {} : { timeout: options.connectTimeoutMs };
  try {
    await client.connect(transport, connectOptions);
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw error;
  }

  const waitFor = (predicate: (n: ReceivedNotification) => boolean, timeoutMs = 5_000): Promise<ReceivedNotification> => {
    const already = client.received.find(predicate);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const listener: Listener = (notification) => {
        if (!predicate(notification)) return;
        clearTimeout(timer);
        client.listeners.delete(listener);
        resolve(notification);
      };
      const timer = setTimeout(() => {
        client.listeners.delete(listener);
        const seen = client.received.map((n) => n.method).join(', ') || 'none';
        reject(new Error(`no matching notification within ${timeoutMs} ms; received: ${seen}`));
      }, timeoutMs);
      client.listeners.add(listener);
    });
  };

  return {
    client,
    notifications: client.received,
    errors,
    serverStderr: stderr,
    waitFor,
    close: () => client.close(),
  };
}

/** A sessionful 2025-11-25 agent and a stateless 2026-07-28 agent of the gateway at `url`, in that order. */
export function connectAgentOfEachRevision(url: string): Promise<[ConnectedClient, ConnectedClient]> {
  return Promise.all([
    connectClient({ transport: 'http', url, revision: '2025-11-25' }),
    connectClient({ transport: 'http', url, revision: '2026-07-28' }),
  ]);
}

function negotiationFor(revision: ClientRevision | 'auto'): VersionNegotiationOptions {
  switch (revision) {
    case '2025-11-25':
      // The legacy handshake offers LATEST_PROTOCOL_VERSION, which is 2025-11-25 in SDK 2.4.
      return { mode: 'legacy' };
    case '2026-07-28':
      return { mode: { pin: '2026-07-28' } };
    case 'auto':
      return { mode: 'auto' };
  }
}

function capabilitiesFor(declared: ClientCapabilities, handlers: ClientHandlers): ClientCapabilities {
  return {
    ...declared,
    ...(handlers.elicitation !== undefined && declared.elicitation === undefined ? { elicitation: {} } : {}),
    ...(handlers.sampling !== undefined && declared.sampling === undefined ? { sampling: {} } : {}),
    ...(handlers.roots !== undefined && declared.roots === undefined ? { roots: { listChanged: true } } : {}),
  };
}

const STDERR_LIMIT = 64 * 1024;

function transportFor(target: ClientTarget): { transport: Transport; stderr: () => string } {
  switch (target.transport) {
    case 'stdio': {
      const transport = new StdioClientTransport({ ...target.server, stderr: 'pipe' });
      let text = '';
      // Drained so a chatty server never blocks on a full pipe; kept for failure messages.
      transport.stderr?.on('data', (chunk: Buffer) => {
        text = (text + chunk.toString('utf8')).slice(-STDERR_LIMIT);
      });
      return { transport, stderr: () => text };
    }
    case 'http': {
      const requestInit = target.headers === undefined ? {} : { requestInit: { headers: target.headers } };
      const fetch = target.fetch === undefined ? {} : { fetch: target.fetch };
      return { transport: new StreamableHTTPClientTransport(new URL(target.url), { ...requestInit, ...fetch }), stderr: () => '' };
    }
    case 'sse': {
      const requestInit = target.headers === undefined ? {} : { requestInit: { headers: target.headers } };
      return { transport: new SSEClientTransport(new URL(target.url), requestInit), stderr: () => '' };
    }
  }
}
