import {
  type Client,
  SERVER_INFO_META_KEY,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type ProgressCallback,
  type ProtocolEra,
  type RequestMethod,
  type Result,
  type ServerCapabilities,
  type SubscriptionFilter,
  type Transport,
  type VersionNegotiationMode,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/config-schema.js';
import { carriedHeaders } from './credential-headers.js';
import { CorruptStdoutError } from './corrupt-stdout-error.js';
import { UpstreamClient } from './upstream-client.js';
import { createUpstreamTransport, StdioUnavailableError, type UpstreamRuntime } from './upstream-transport.js';
import { UpstreamError } from './upstream-error.js';
import { WantedNotifications, askForNotifications } from './wanted-notifications.js';

/** The server-to-client traffic of an upstream, handed to whoever serves the agent behind this connection. */
export interface UpstreamBridge {
  /** elicitation/create, sampling/createMessage, roots/list: answered by the agent. */
  forwardServerRequest(server: string, request: { method: string; params?: Record<string, unknown> }, signal: AbortSignal): Promise<Result>;
  /** list_changed, resources/updated, logging messages. */
  forwardNotification(server: string, notification: Notification): void;
}

export interface UpstreamConnectionOptions {
  clientInfo: Implementation;
  clientCapabilities: ClientCapabilities;
  /**
   * What the agents behind this connection speak. A 2025-11-25 agent's connection always opens with the
   * 2025-11-25 handshake, so the upstream treats it as it would treat the agent directly (its own
   * requests reach the agent as requests); a 2026-07-28 agent's speaks 2026-07-28 where the server's
   * `protocol` setting allows.
   */
  agentEra: ProtocolEra;
  bridge: UpstreamBridge;
  onStderrLine?: (server: string, line: string) => void;
  /** The credential headers every request to an HTTP server carries, asked for each request. */
  credentialHeaders?: (server: string) => Readonly<Record<string, string>>;
  /** How this runtime starts stdio servers and sends HTTP requests (see UpstreamRuntime). */
  runtime?: UpstreamRuntime | undefined;
}

export interface UpstreamRequestOptions {
  signal?: AbortSignal;
  onprogress?: ProgressCallback;
  /** `_meta` envelope keys for this request (the agent's client capabilities); sent on 2026-07-28 only. */
  envelope?: Record<string, unknown>;
  /** Hands an `input_required` result back instead of failing: the agent answers it itself. */
  allowInputRequired?: boolean;
  /** Credential headers for this request alone (HTTP servers); see credential-headers.ts. */
  headers?: Readonly<Record<string, string>>;
}

const SERVER_REQUESTS = ['elicitation/create', 'sampling/createMessage', 'roots/list'] as const;
const FORWARDED_NOTIFICATIONS = [
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
  'notifications/message',
] as const;
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 30_000;
const OUTPUT_LINES_KEPT = 20;
// Starting a server (a process launched through npx, a cold container) can take seconds, more than
// a fast tool's per-request timeoutMs: the handshake that starts it is allowed at least this long.
const START_ALLOWANCE_MS = 10_000;

/**
 * One MCP client connection to one upstream server, opened on first use. When the upstream dies
 * (process exit, broken stream, invalid JSON-RPC) the in-flight calls fail with the reason, and the
 * next call starts it again after a delay that doubles with each consecutive failure.
 */
export class UpstreamConnection {
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #consecutiveFailures = 0;
  #lastFailure: { at: number; reason: string } | undefined;
  #outputTail: string[] = [];
  #closed = false;
  readonly #wanted = new WantedNotifications();

  constructor(
    readonly name: string,
    private readonly config: ServerConfig,
    private readonly options: UpstreamConnectionOptions,
  ) {}

  get serverCapabilities(): ServerCapabilities | undefined {
    return this.#client?.getServerCapabilities();
  }

  async request(method: RequestMethod, params: Record<string, unknown> | undefined, options: UpstreamRequestOptions = {}): Promise<Result> {
    const client = await this.connected();
    try {
      return await this.send(client, method, params, options);
    } catch (error) {
      if (!sessionGone(error)) throw this.explain(error, method);
      // The server started again and forgot the session. It refused the request without running
      // it, so the request goes once more, on a new session.
      this.drop(client);
    }
    try {
      return await this.send(await this.connected(), method, params, options);
    } catch (error) {
      throw this.explain(error, method);
    }
  }

  private async send(client: Client, method: RequestMethod, params: Record<string, unknown> | undefined, options: UpstreamRequestOptions): Promise<Result> {
    const sent = client.getProtocolEra() === 'modern' && options.envelope ? withEnvelope(params, options.envelope) : params;
    const result = await client.request({ method, ...(sent === undefined ? {} : { params: sent }) } as never, {
      timeout: this.config.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
      ...(options.allowInputRequired ? { allowInputRequired: true } : {}),
      ...(options.headers && Object.keys(options.headers).length > 0 ? { headers: carriedHeaders(options.headers) } : {}),
    });
    return withoutServerInfo(result);
  }

  /** Forgets a client whose server no longer serves it; the next call connects afresh, at once. */
  private drop(client: Client): void {
    if (this.#client === client) this.#client = undefined;
    void client.close().catch(() => undefined);
  }

  /**
   * Whether this connection speaks 2026-07-28, so that an agent's input requests can pass through.
   * Settled by the config where it can be; "auto" asks the running server.
   */
  async speaksModern(): Promise<boolean> {
    const negotiation = this.negotiation();
    if (negotiation === 'legacy') return false;
    if (negotiation !== 'auto') return true;
    return (await this.connected()).getProtocolEra() === 'modern';
  }

  /** Passes an agent's notification on, to a running upstream only: one not started has nothing to update. */
  async notify(notification: Notification): Promise<void> {
    await this.#client?.notification(notification as never).catch(() => undefined);
  }

  /**
   * Asks the upstream for these change notifications: now if it runs, and again each time it starts.
   * Resolves once a running (or starting) upstream has been asked; never fails, a refusal is reported.
   */
  async subscribe(filter: SubscriptionFilter): Promise<void> {
    const added = this.#wanted.add(filter);
    if (!added) return;
    if (this.#client) return this.askFor(this.#client, added);
    // A start under way asks for everything wanted once it has connected, this included.
    await this.#connecting?.catch(() => undefined);
  }

  /** Resolves with a live client, starting the upstream if it is not running. */
  async connected(): Promise<Client> {
    if (this.#closed) throw new UpstreamError(this.name, 'unavailable', 'the gateway is shutting down');
    if (this.#client) return this.#client;
    this.#connecting ??= this.start().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }

  private async start(): Promise<Client> {
    const wait = this.restartDelay();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const client = this.createClient();
    // Only this process's own output explains its failure; an earlier process's would mislead.
    const outputTail: string[] = (this.#outputTail = []);
    const keep = (line: string) => {
      outputTail.push(line);
      if (outputTail.length > OUTPUT_LINES_KEPT) outputTail.shift();
      this.options.onStderrLine?.(this.name, line);
    };
    const credentialHeaders = this.options.credentialHeaders;
    let transport: Transport;
    try {
      transport = createUpstreamTransport(
        this.config,
        { onStderrLine: keep, onStrayStdoutLine: (line) => keep(`(on stdout) ${line}`) },
        credentialHeaders === undefined ? undefined : () => credentialHeaders(this.name),
        this.options.runtime,
      );
    } catch (error) {
      if (!(error instanceof StdioUnavailableError)) throw error;
      throw new UpstreamError(this.name, 'unavailable', error.message);
    }
    /** What broke the protocol while connecting: a better reason than the "Connection closed" it causes. */
    let violation: string | undefined;
    client.onclose = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      if (!this.#closed) this.fail('the connection closed (the server exited or its stream ended)');
    };
    client.onerror = (error) => {
      // A server that breaks the protocol cannot be trusted with the calls in flight (one of them
      // may have lost its answer): the connection is dropped, they fail now, the next call restarts it.
      // Other reports (a late answer to a call that timed out, progress for a finished call) are no fault.
      const fault = protocolViolation(error);
      if (fault === undefined) return;
      violation ??= fault;
      if (this.#client !== client) return;
      this.#client = undefined;
      this.fail(`it sent invalid JSON-RPC: ${fault}`);
      void client.close();
    };
    try {
      await client.connect(transport, { timeout: Math.max(this.config.timeoutMs, START_ALLOWANCE_MS) });
    } catch (error) {
      await client.close().catch(() => undefined);
      const cause = violation === undefined ? transportFailure(error) : `it sent invalid JSON-RPC: ${violation}`;
      const reason = `failed to start: ${cause}${this.outputHint()}`;
      this.fail(reason);
      throw new UpstreamError(this.name, 'unavailable', reason);
    }
    if (this.#closed) {
      await client.close();
      throw new UpstreamError(this.name, 'unavailable', 'the gateway is shutting down');
    }
    this.#consecutiveFailures = 0;
    this.#client = client;
    const wanted = this.#wanted.all;
    if (wanted) await this.askFor(client, wanted);
    return client;
  }

  private async askFor(client: Client, filter: SubscriptionFilter): Promise<void> {
    await askForNotifications(client, filter, this.config.timeoutMs).catch((error: unknown) =>
      console.error(`agenttrail: upstream '${this.name}' could not be subscribed to change notifications: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private createClient(): UpstreamClient {
    const client = new UpstreamClient(this.options.clientInfo, {
      capabilities: this.options.clientCapabilities,
      versionNegotiation: { mode: this.negotiation() },
      // A 2026-07-28 agent answers the upstream's input requests itself, in its own rounds.
      ...(this.options.agentEra === 'modern' ? { inputRequired: { autoFulfill: false } } : {}),
    });
    for (const method of SERVER_REQUESTS) {
      if (!this.agentDeclares(method)) continue;
      client.setRequestHandler(method, (request, ctx) =>
        this.options.bridge.forwardServerRequest(this.name, { method, ...(request.params ? { params: request.params } : {}) }, ctx.mcpReq.signal) as never,
      );
    }
    for (const method of FORWARDED_NOTIFICATIONS) {
      client.setNotificationHandler(method, (notification) => this.options.bridge.forwardNotification(this.name, notification));
    }
    return client;
  }

  private negotiation(): VersionNegotiationMode {
    if (this.options.agentEra === 'legacy') return 'legacy';
    switch (this.config.protocol) {
      case '2025-11-25':
        return 'legacy';
      case '2026-07-28':
        return { pin: '2026-07-28' };
      case 'auto':
        return 'auto';
    }
  }

  private agentDeclares(method: (typeof SERVER_REQUESTS)[number]): boolean {
    const capabilities = this.options.clientCapabilities;
    if (method === 'elicitation/create') return capabilities.elicitation !== undefined;
    if (method === 'sampling/createMessage') return capabilities.sampling !== undefined;
    return capabilities.roots !== undefined;
  }

  private fail(reason: string): void {
    this.#consecutiveFailures += 1;
    this.#lastFailure = { at: Date.now(), reason };
  }

  private restartDelay(): number {
    if (this.#consecutiveFailures === 0 || this.#lastFailure === undefined) return 0;
    const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (this.#consecutiveFailures - 1));
    return Math.max(0, this.#lastFailure.at + delay - Date.now());
  }

  private outputHint(): string {
    return this.#outputTail.length === 0 ? '' : `; its last output: ${this.#outputTail.slice(-3).join(' | ')}`;
  }

  /** Protocol errors the upstream itself answered pass through unchanged; transport failures get our reason. */
  private explain(error: unknown, method: string): unknown {
    if (isUnreachable(error)) {
      return new UpstreamError(this.name, 'unavailable', `failed during ${method}: ${transportFailure(error)}; it is tried again on the next call`);
    }
    if (!(error instanceof SdkError)) return error;
    if (error instanceof SdkHttpError) {
      return new UpstreamError(this.name, 'unavailable', `failed during ${method}: it answered HTTP ${error.status}: ${error.message}`);
    }
    if (error.code === SdkErrorCode.RequestTimeout) {
      return new UpstreamError(this.name, 'timeout', `did not answer ${method} within ${this.config.timeoutMs} ms`);
    }
    if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected || error.code === SdkErrorCode.SendFailed) {
      const reason = this.#lastFailure?.reason ?? error.message;
      return new UpstreamError(this.name, 'unavailable', `failed during ${method}: ${reason}${this.outputHint()}; it is restarted on the next call`);
    }
    return error;
  }
}

/**
 * An HTTP server that answers a request of a session it does not know: 404 in the MCP spec, 400
 * "No valid session ID" in servers built on the SDK's examples. It restarted (or dropped the session).
 */
function sessionGone(error: unknown): boolean {
  if (!(error instanceof SdkHttpError)) return false;
  return error.status === 404 || (error.status === 400 && /session/i.test(error.message));
}

/** fetch's own failure (undici's "fetch failed"): the server could not be reached at all. */
function isUnreachable(error: unknown): error is TypeError {
  return error instanceof TypeError && error.message === 'fetch failed';
}

/** Why a transport failed, with what lies under fetch's bare "fetch failed" (connect ECONNREFUSED ...). */
function transportFailure(error: unknown): string {
  if (!isUnreachable(error)) return error instanceof Error ? error.message : String(error);
  const cause = error.cause;
  const detail = cause instanceof Error ? cause.message || (cause as { code?: unknown }).code : undefined;
  return `cannot reach it (${typeof detail === 'string' && detail !== '' ? detail : 'fetch failed'})`;
}

function withEnvelope(params: Record<string, unknown> | undefined, envelope: Record<string, unknown>): Record<string, unknown> {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  return { ...params, _meta: { ...meta, ...envelope } };
}

/** The agent's server is the gateway: an upstream's self-identification on a result would misattribute it. */
function withoutServerInfo(result: Result): Result {
  const meta = result._meta as Record<string, unknown> | undefined;
  if (meta?.[SERVER_INFO_META_KEY] === undefined) return result;
  const { [SERVER_INFO_META_KEY]: _upstream, ...rest } = meta;
  const { _meta: _dropped, ...body } = result;
  return Object.keys(rest).length === 0 ? body : { ...body, _meta: rest };
}

/**
 * What was wrong, in one short line, when an error an upstream's transport reports means the server
 * broke the protocol; undefined for every other report. Over HTTP the SDK's transports report a body
 * or event that is no JSON (SyntaxError) or no JSON-RPC message (a schema error, whose issue dump
 * is not for an agent's eyes); over stdio the CheckedStdioTransport reports it with an excerpt.
 */
function protocolViolation(error: Error): string | undefined {
  if (error instanceof CorruptStdoutError) return error.message;
  if (error instanceof SyntaxError) return 'a message that is not valid JSON';
  if (error.name === 'ZodError') return 'a message that is no JSON-RPC 2.0 request, notification or response';
  return undefined;
}
