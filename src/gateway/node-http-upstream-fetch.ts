import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from '@modelcontextprotocol/client';
import { AGENTTRAIL_VERSION } from '../version.js';

/**
 * How long a kept-alive connection may wait unused. Below the 5 s that Node and most servers keep
 * one, so the gateway closes it before the server does and never sends a call down a connection
 * the server is closing (undici, behind the global fetch, waits 4 s too). A server that says it
 * keeps them shorter (`Keep-Alive: timeout=N`) is believed, less a second.
 */
const IDLE_CONNECTION_MS = 4_000;
const USER_AGENT = `agenttrail/${AGENTTRAIL_VERSION}`;

/**
 * The fetch an HTTP upstream's SDK transport sends its requests with, on node:http (Node only; the
 * core takes it as `UpstreamRuntime.fetch`, src/gateway/upstream-transport.ts, and uses the global
 * fetch without it). The global fetch costs a web `Request`, `Response`, body streams and a transferable
 * AbortSignal per request; here a request is one node:http request on a kept-alive connection, and
 * its answer a small Response whose body is read into one string, unless it is an SSE stream: only
 * that becomes a web ReadableStream, as the SDK reads it.
 *
 * What the SDK's transports ask of a fetch, and no more: string bodies, redirects left to the
 * caller (`redirect: 'manual'`: the SDK follows those within the origin itself), an AbortSignal,
 * and fetch's errors: a network failure is a TypeError "fetch failed" whose cause says why.
 */
export function createNodeHttpUpstreamFetch(): FetchLike {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
    'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
  };
  const aborts = new AbortListeners();
  return (input, init = {}) => {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`cannot fetch ${url.protocol} URLs, only http: and https:`));
    if (init.redirect !== 'manual') return Promise.reject(new TypeError(`this fetch leaves redirects to its caller: it needs redirect: 'manual', not '${init.redirect ?? 'follow'}'`));
    const { body, signal } = init;
    if (body !== undefined && body !== null && typeof body !== 'string') return Promise.reject(new TypeError('this fetch sends string bodies only'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Response>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let request: ClientRequest;
      try {
        request = send(url, { agent: agents[url.protocol as 'http:' | 'https:'], method: init.method ?? 'GET', headers: outgoingHeaders(init.headers) });
      } catch (error) {
        // node:http refuses a header value with a line break, as fetch does, before anything is sent.
        reject(new TypeError(error instanceof Error ? error.message : String(error), { cause: error }));
        return;
      }
      let answered = false;
      const forget = signal ? aborts.add(signal, (reason) => request.destroy(abortError(reason))) : undefined;
      request.on('error', (error) => {
        forget?.();
        if (!answered) reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
      });
      request.on('response', (response) => {
        answered = true;
        if (isEventStream(response)) {
          // The stream stays open after this resolves: a closed one, or the signal, ends it.
          response.once('close', () => forget?.());
          resolve(new UpstreamResponse(url, response, Readable.toWeb(response) as ReadableStream<Uint8Array>).asResponse());
          return;
        }
        readWhole(response).then(
          (text) => {
            forget?.();
            resolve(new UpstreamResponse(url, response, text).asResponse());
          },
          (error: unknown) => {
            forget?.();
            reject(signal?.aborted ? signal.reason : new TypeError('terminated', { cause: error }));
          },
        );
      });
      request.end(body ?? undefined);
    });
  };
}

/**
 * Abort listeners, one per signal however many requests wait on it. The SDK's transport hands
 * every request its one signal (aborted when the transport closes): a listener per request would
 * make each request walk all the others' (EventTarget checks for duplicates) and Node warn of a leak.
 */
class AbortListeners {
  readonly #waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

  /** Calls `abort` with the signal's reason when it aborts, until the returned function is called. */
  add(signal: AbortSignal, abort: (reason: unknown) => void): () => void {
    let waiting = this.#waiting.get(signal);
    if (waiting === undefined) {
      const all = new Set<(reason: unknown) => void>();
      signal.addEventListener('abort', () => {
        for (const each of all) each(signal.reason);
        all.clear();
      }, { once: true });
      this.#waiting.set(signal, all);
      waiting = all;
    }
    const mine = waiting;
    mine.add(abort);
    return () => mine.delete(abort);
  }
}

/** The reason destroys the request; an Error, so that node:http reports it as one. */
function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** The request's headers as node:http takes them; the SDK passes a Headers, credential-headers.ts a plain record. */
function outgoingHeaders(headers: HeadersInit | undefined): OutgoingHttpHeaders {
  const outgoing: OutgoingHttpHeaders = headers === undefined ? {} : headers instanceof Headers || Array.isArray(headers) ? Object.fromEntries(headers) : { ...headers };
  if (!Object.keys(outgoing).some((name) => name.toLowerCase() === 'user-agent')) outgoing['user-agent'] = USER_AGENT;
  return outgoing;
}

const EVENT_STREAM = /^\s*text\/event-stream\s*(;|$)/i;

function isEventStream(response: IncomingMessage): boolean {
  const status = response.statusCode ?? 0;
  const type = response.headers['content-type'];
  return status >= 200 && status < 300 && type !== undefined && EVENT_STREAM.test(type);
}

function readWhole(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
    // After 'end' (the usual close) there is nothing to settle, and no error worth its stack trace to build.
    response.once('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the whole response arrived'));
    });
  });
}

/** The members of a fetch `Response` headers object that the SDK reads. */
class ResponseHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined;
  }
}

/**
 * The members of a fetch `Response` that the SDK's transports read: status, ok, statusText,
 * headers (get, has), url, type, body (the SSE stream) and text()/json(). A web Response would
 * cost a body stream per call, which this exists to avoid.
 */
class UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: ResponseHeaders;
  readonly url: string;
  readonly type = 'basic';
  readonly #content: string | ReadableStream<Uint8Array>;

  constructor(url: URL, response: IncomingMessage, content: string | ReadableStream<Uint8Array>) {
    this.status = response.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.statusText = response.statusMessage ?? '';
    this.headers = new ResponseHeaders(response.headers);
    this.url = url.href;
    this.#content = content;
  }

  /** An SSE stream as it arrives; any other body, read already, as one chunk. */
  get body(): ReadableStream<Uint8Array> {
    const content = this.#content;
    if (typeof content !== 'string') return content;
    return new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(content));
        controller.close();
      },
    });
  }

  text(): Promise<string> {
    const content = this.#content;
    return typeof content === 'string' ? Promise.resolve(content) : new Response(content).text();
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** Typed as the fetch Response it stands for (see the class comment for what it has of one). */
  asResponse(): Response {
    return this as unknown as Response;
  }
}
