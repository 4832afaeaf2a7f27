import { SSEClientTransport, StreamableHTTPClientTransport, type FetchLike, type Transport } from '@modelcontextprotocol/client';
import type { ServerConfig, StdioServerConfig } from '../config/config-schema.js';
import { fetchWithCredentials } from './credential-headers.js';

/** How a transport to one upstream reports the upstream's own diagnostics. */
export interface UpstreamDiagnostics {
  /** A line a stdio server wrote on stderr. */
  onStderrLine(line: string): void;
  /** A line a stdio server wrote on stdout that is no protocol message (a banner, a stray log line). */
  onStrayStdoutLine(line: string): void;
}

/**
 * Starts a stdio server and connects to it. Only a runtime that can spawn processes has one (the
 * Node edge, src/gateway/stdio-upstream-transport.ts), so the runtime-neutral core never imports it.
 */
export type StdioTransportFactory = (server: StdioServerConfig, diagnostics: UpstreamDiagnostics) => Transport;

/** What a runtime provides for reaching upstreams, beyond web standards. The core never imports either. */
export interface UpstreamRuntime {
  /** Starts stdio servers; none where processes cannot be started (a Worker): only HTTP servers then. */
  readonly stdio?: StdioTransportFactory | undefined;
  /**
   * Sends Streamable HTTP requests, cheaper than the runtime's global fetch (the Node edge's, on
   * node:http: src/gateway/node-http-upstream-fetch.ts); none: the global fetch.
   */
  readonly fetch?: FetchLike | undefined;
}

/** A stdio server configured where no process can be started. */
export class StdioUnavailableError extends Error {
  constructor(command: string) {
    super(`is a stdio server (command: ${command}), and this runtime cannot start processes: reach it over HTTP (url:)`);
    this.name = 'StdioUnavailableError';
  }
}

/**
 * Builds the SDK client transport for one configured upstream. A stdio server is started by
 * `runtime.stdio`; without it (a Cloudflare Worker) only HTTP servers can be reached. An HTTP
 * server's requests get the credential headers `credentialHeaders` gives at the time of each
 * request, and those carried for one call.
 */
export function createUpstreamTransport(
  server: ServerConfig,
  diagnostics: UpstreamDiagnostics,
  credentialHeaders: () => Readonly<Record<string, string>> = () => ({}),
  runtime: UpstreamRuntime = {},
): Transport {
  if ('command' in server) {
    if (runtime.stdio === undefined) throw new StdioUnavailableError(server.command);
    return runtime.stdio(server, diagnostics);
  }
  const url = new URL(server.url);
  const requestInit: RequestInit = { headers: server.headers };
  if (server.transport === 'sse') {
    const withCredentials = fetchWithCredentials(fetch, credentialHeaders);
    return new SSEClientTransport(url, { requestInit, fetch: withCredentials, eventSourceInit: { fetch: withHeaders(server.headers, withCredentials) } });
  }
  return new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchWithCredentials(runtime.fetch ?? postsWithoutTransportSignal, credentialHeaders) });
}

/**
 * The SDK hands every request the transport's one AbortSignal, for close(). undici adds a listener
 * to it per request and counts them all on each new one, so with many calls in flight each request
 * costs more (and Node warns of a listener leak). A POST ends with its answer (or the call's
 * timeout) anyway; the standing GET stream keeps the signal, so closing the transport still ends it.
 */
const postsWithoutTransportSignal: typeof fetch = (input, init) =>
  init?.method === 'POST' ? fetch(input, { ...init, signal: null }) : fetch(input, init);

/** The legacy SSE GET stream is opened by EventSource, which takes headers only through its fetch. */
function withHeaders(headers: Record<string, string>, base: FetchLike): FetchLike {
  return (input, init) => base(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } });
}
