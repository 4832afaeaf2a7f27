import {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  type AuthInfo,
  type InitializeRequest,
  SUPPORTED_PROTOCOL_VERSIONS,
  isInitializeRequest,
  isJsonContentType,
  parseJSONRPCMessage,
  readRequestBody,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import { EventStreamResponse } from './event-stream-response.js';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';
import { GET_STREAM_ID, SessionEventStore } from './session-event-store.js';
import type { EventId, StreamId } from './session-event-store.js';

/**
 * How long a call may take before its POST is answered with an SSE stream rather than one JSON
 * body. A JSON body costs the gateway far less than a stream (about a sixth of its CPU per call,
 * measured with `npm run bench:profile`), and under load most calls still answer well within a
 * second; a slower call gets its stream, and with it an event id to resume from, while it runs.
 */
export const JSON_ANSWER_WINDOW_MS = 1000;

const MAX_BATCH_SIZE = 100;
const FIRST_PROTOCOL_WITH_EMPTY_EVENTS = '2025-11-25';

export interface SessionTransportOptions {
  sessionId: string;
  maxBodyBytes: number;
  /** After a successful initialize: the session exists from now on. */
  onInitialized(): void;
  /** The agent ended the session (DELETE). */
  onEnded(): void;
}

/** The requests of one POST, and how they are being answered. */
interface Exchange {
  readonly streamId: StreamId;
  readonly requestIds: readonly RequestId[];
  readonly answers: Map<RequestId, JSONRPCMessage>;
  readonly resumable: boolean;
  /** Set while the POST has no response yet: the answers can still go out as one JSON body. */
  respond: ((response: Response) => void) | undefined;
  /** Once the POST became an SSE stream; undefined again if the agent dropped it. */
  events: EventStreamResponse | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * One 2025-11-25 session over Streamable HTTP. The SDK's transport answers every POST with an SSE
 * stream; this one answers a POST with JSON when its answers come before anything else does (no
 * progress, no question to the agent) and within JSON_ANSWER_WINDOW_MS, and turns it into a stream
 * otherwise. Streams are resumable: every message sent on them is kept in the session's
 * SessionEventStore and sent again after a Last-Event-ID.
 */
export class SessionTransport implements Transport {
  sessionId: string | undefined;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly events = new SessionEventStore();
  readonly #options: SessionTransportOptions;
  #supportedVersions: string[] = [...SUPPORTED_PROTOCOL_VERSIONS];
  #negotiatedVersion: string | undefined;
  #initialized = false;
  #closed = false;
  readonly #exchangeOfRequest = new Map<RequestId, Exchange>();
  readonly #exchangeOfStream = new Map<StreamId, Exchange>();
  #getStream: EventStreamResponse | undefined;
  #getStreamOpened = false;
  #nextStream = 0;

  constructor(options: SessionTransportOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {}

  setSupportedProtocolVersions(versions: string[]): void {
    this.#supportedVersions = versions;
  }

  setProtocolVersion(version: string): void {
    this.#negotiatedVersion = version;
  }

  /** `authInfo` is what the agent authenticated with, passed on with each of the request's messages. */
  async handleRequest(request: Request, options?: { authInfo?: AuthInfo }): Promise<Response> {
    if (this.#closed) return jsonRpcErrorResponse(404, -32001, 'Session not found');
    switch (request.method) {
      case 'POST':
        return this.#post(request, options?.authInfo);
      case 'GET':
        return this.#get(request);
      case 'DELETE':
        return this.#delete(request);
      default: {
        const response = jsonRpcErrorResponse(405, -32000, 'Method not allowed.');
        response.headers.set('Allow', 'GET, POST, DELETE');
        return response;
      }
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const answer = isAnswer(message);
    const requestId = answer ? message.id : options?.relatedRequestId;
    if (requestId === undefined) {
      const json = JSON.stringify(message);
      // Kept whether or not the GET stream is open: a stream opened later gets it.
      const id = this.events.keep(GET_STREAM_ID, json);
      this.#getStream?.send(id, json);
      return;
    }
    const exchange = this.#exchangeOfRequest.get(requestId);
    if (!exchange) throw new Error(`No connection established for request ID: ${String(requestId)}`);
    // Progress, a log line or a question to the agent before the answer: the answer becomes a stream.
    if (!answer) this.#streamAnswer(exchange);
    if (exchange.respond === undefined) {
      const json = JSON.stringify(message);
      // Kept even while the agent has lost the stream: it resumes with Last-Event-ID.
      const id = this.events.keep(exchange.streamId, json);
      exchange.events?.send(id, json);
    }
    if (!answer) return;
    exchange.answers.set(requestId, message);
    this.#exchangeOfRequest.delete(requestId);
    if (exchange.answers.size === exchange.requestIds.length) this.#finish(exchange);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const exchange of new Set(this.#exchangeOfRequest.values())) {
      clearTimeout(exchange.timer);
      exchange.respond?.(jsonRpcErrorResponse(404, -32001, 'Session not found'));
      exchange.events?.close();
    }
    this.#exchangeOfRequest.clear();
    this.#exchangeOfStream.clear();
    this.#getStream?.close();
    this.onclose?.();
  }

  async #post(request: Request, authInfo: AuthInfo | undefined): Promise<Response> {
    const accept = request.headers.get('accept');
    if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) {
      return jsonRpcErrorResponse(406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return jsonRpcErrorResponse(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    const parsed = await parseMessages(request, this.#options.maxBodyBytes);
    if (parsed instanceof Response) return parsed;
    const messages = parsed;

    const initialize = messages.find(isInitialize);
    if (initialize) {
      if (this.#initialized) return jsonRpcErrorResponse(400, -32600, 'Invalid Request: Server already initialized');
      if (messages.length > 1) return jsonRpcErrorResponse(400, -32600, 'Invalid Request: Only one initialization request is allowed');
      this.sessionId = this.#options.sessionId;
      this.#initialized = true;
      this.#options.onInitialized();
    } else {
      const refusal = this.#refuseOutsideSession(request);
      if (refusal) return refusal;
    }

    const requests = messages.filter(isRequest);
    if (requests.length === 0) {
      for (const message of messages) this.onmessage?.(message, { request, ...(authInfo ? { authInfo } : {}) });
      return new Response(null, { status: 202 });
    }
    const protocol = initialize ? initialize.params.protocolVersion : (request.headers.get('mcp-protocol-version') ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION);
    const answered = new Promise<Response>((respond) => {
      const exchange: Exchange = {
        streamId: `post-${++this.#nextStream}`,
        requestIds: requests.map((message) => message.id),
        answers: new Map(),
        resumable: this.#allowsEmptyEvents(protocol),
        respond,
        events: undefined,
        timer: undefined,
      };
      exchange.timer = setTimeout(() => this.#streamAnswer(exchange), JSON_ANSWER_WINDOW_MS);
      for (const id of exchange.requestIds) this.#exchangeOfRequest.set(id, exchange);
      this.#exchangeOfStream.set(exchange.streamId, exchange);
    });
    for (const message of messages) this.onmessage?.(message, { request, ...(authInfo ? { authInfo } : {}) });
    return answered;
  }

  async #get(request: Request): Promise<Response> {
    if (!request.headers.get('accept')?.includes('text/event-stream')) {
      return jsonRpcErrorResponse(406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    }
    const refusal = this.#refuseOutsideSession(request);
    if (refusal) return refusal;
    // The first GET stream gets everything the session sent outside of calls so far.
    const lastEventId = request.headers.get('last-event-id') ?? (this.#getStreamOpened ? null : this.events.origin(GET_STREAM_ID));
    return lastEventId === null ? this.#openGetStream([]) : this.#resume(lastEventId, request);
  }

  /**
   * The GET stream carries what belongs to no call (list changes, resource updates, log messages).
   * It opens with an event id of its own, so that an agent that saw nothing on it yet can still
   * resume where it left off (clients before 2025-11-25 may not take an event without data).
   */
  #openGetStream(missed: readonly { id: EventId; json: string }[], headerVersion?: string | null): Response {
    if (this.#getStream?.open) return jsonRpcErrorResponse(409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    const resumePoint = this.events.resumePoint(GET_STREAM_ID);
    const stream = new EventStreamResponse(this.#sessionHeaders(), () => {
      if (this.#getStream === stream) this.#getStream = undefined;
    });
    if (this.#allowsEmptyEvents(headerVersion ?? this.#negotiatedVersion)) stream.send(resumePoint);
    for (const event of missed) stream.send(event.id, event.json);
    this.#getStream = stream;
    this.#getStreamOpened = true;
    return stream.response;
  }

  /** A stream the agent lost, sent again from after `lastEventId` and kept open while its call runs. */
  #resume(lastEventId: EventId, request: Request): Response {
    const replay = this.events.replayAfter(lastEventId);
    if (!replay) return jsonRpcErrorResponse(400, -32000, 'Invalid event ID format');
    if (replay.streamId === GET_STREAM_ID) return this.#openGetStream(replay.events, request.headers.get('mcp-protocol-version'));
    const exchange = this.#exchangeOfStream.get(replay.streamId);
    if (exchange?.events?.open) return jsonRpcErrorResponse(409, -32000, 'Conflict: Stream already has an active connection');
    const stream = new EventStreamResponse(this.#sessionHeaders(), () => {
      if (exchange?.events === stream) exchange.events = undefined;
    });
    for (const event of replay.events) stream.send(event.id, event.json);
    if (exchange) exchange.events = stream;
    else stream.close();
    return stream.response;
  }

  async #delete(request: Request): Promise<Response> {
    const refusal = this.#refuseOutsideSession(request);
    if (refusal) return refusal;
    this.#options.onEnded();
    await this.close();
    return new Response(null, { status: 200 });
  }

  /** The POST gets its SSE stream now (see JSON_ANSWER_WINDOW_MS); no-op once it has a response. */
  #streamAnswer(exchange: Exchange): void {
    const respond = exchange.respond;
    if (respond === undefined) return;
    clearTimeout(exchange.timer);
    exchange.respond = undefined;
    const stream = new EventStreamResponse(this.#sessionHeaders(), () => {
      if (exchange.events === stream) exchange.events = undefined;
    });
    if (exchange.resumable) stream.send(this.events.mark(exchange.streamId));
    exchange.events = stream;
    respond(stream.response);
  }

  #finish(exchange: Exchange): void {
    this.#exchangeOfStream.delete(exchange.streamId);
    if (exchange.respond === undefined) {
      exchange.events?.close();
      return;
    }
    clearTimeout(exchange.timer);
    const answers = exchange.requestIds.map((id) => exchange.answers.get(id));
    exchange.respond(Response.json(answers.length === 1 ? answers[0] : answers, { status: 200, headers: this.#sessionHeaders() }));
    exchange.respond = undefined;
  }

  #refuseOutsideSession(request: Request): Response | undefined {
    if (!this.#initialized) return jsonRpcErrorResponse(400, -32000, 'Bad Request: Server not initialized');
    const sessionId = request.headers.get('mcp-session-id');
    if (!sessionId) return jsonRpcErrorResponse(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    if (sessionId !== this.sessionId) return jsonRpcErrorResponse(404, -32001, 'Session not found');
    const version = request.headers.get('mcp-protocol-version');
    if (version !== null && !this.#supportedVersions.includes(version)) {
      return jsonRpcErrorResponse(
        400,
        -32000,
        `Bad Request: Unsupported protocol version: ${version} (supported versions: ${this.#supportedVersions.join(', ')})`,
      );
    }
    return undefined;
  }

  /** Whether the agent's revision takes an event with an id and no data (2025-11-25 on). */
  #allowsEmptyEvents(version: string | null | undefined): boolean {
    return version !== null && version !== undefined && this.#supportedVersions.includes(version) && version >= FIRST_PROTOCOL_WITH_EMPTY_EVENTS;
  }

  #sessionHeaders(): Record<string, string> {
    return this.sessionId === undefined ? {} : { 'mcp-session-id': this.sessionId };
  }
}

/** The POST's JSON-RPC messages, or the error response that says what is wrong with the body. */
async function parseMessages(request: Request, maxBodyBytes: number): Promise<JSONRPCMessage[] | Response> {
  let raw: unknown;
  try {
    const text = await readBody(request, maxBodyBytes);
    if (text === undefined) return jsonRpcErrorResponse(413, -32000, `Payload Too Large: Request body must not exceed ${maxBodyBytes} bytes`);
    raw = JSON.parse(text);
  } catch {
    return jsonRpcErrorResponse(400, -32700, 'Parse error: Invalid JSON');
  }
  if (Array.isArray(raw) && raw.length > MAX_BATCH_SIZE) {
    return jsonRpcErrorResponse(400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
  }
  try {
    return Array.isArray(raw) ? raw.map((message) => parseJSONRPCMessage(message)) : [parseJSONRPCMessage(raw)];
  } catch {
    return jsonRpcErrorResponse(400, -32700, 'Parse error: Invalid JSON-RPC message');
  }
}

/**
 * The body as text, or undefined when it is larger than allowed. A body of declared length is read
 * whole (on Node, @hono/node-server then reads it straight from the socket, much cheaper than
 * through a web stream); one without is read as a stream, stopping at the limit.
 */
async function readBody(request: Request, maxBodyBytes: number): Promise<string | undefined> {
  const declared = request.headers.get('content-length');
  if (declared === null || request.headers.has('transfer-encoding')) {
    const body = await readRequestBody(request, maxBodyBytes);
    return body.tooLarge ? undefined : body.text;
  }
  return Number(declared) > maxBodyBytes ? undefined : request.text();
}

// A message that is already known to be valid JSON-RPC (parsed, or sent by the SDK's own server)
// is told apart by its members: the SDK's isJSONRPC* guards parse it against a schema again, a
// cost on every message for what one look at its keys decides.
function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message;
}

function isAnswer(message: JSONRPCMessage): message is JSONRPCResultResponse | JSONRPCErrorResponse {
  return 'result' in message || 'error' in message;
}

/**
 * The SDK's isInitializeRequest, asked only of a message whose method is initialize: it is a schema
 * parse, whose failure on every other message would build an error message per request.
 */
function isInitialize(message: JSONRPCMessage): message is InitializeRequest & JSONRPCMessage {
  return 'method' in message && message.method === 'initialize' && isInitializeRequest(message);
}
