import { SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { ServerConfig } from '../config/config-schema.js';
import { CheckedStdioTransport } from './checked-stdio-transport.js';
import { fetchWithCredentials } from './credential-headers.js';

/** How a transport to one upstream reports the upstream's own diagnostics. */
export interface UpstreamDiagnostics {
  /** A line a stdio server wrote on stderr. */
  onStderrLine(line: string): void;
  /** A line a stdio server wrote on stdout that is no protocol message (a banner, a stray log line). */
  onStrayStdoutLine(line: string): void;
}

/**
 * Builds the SDK client transport for one configured upstream. A stdio server gets the SDK's minimal
 * default environment plus its configured `env`, never the gateway's whole environment, so secrets
 * the gateway holds do not leak into every tool server. An HTTP server's requests get the credential
 * headers `credentialHeaders` gives at the time of each request, and those carried for one call.
 */
export function createUpstreamTransport(
  server: ServerConfig,
  diagnostics: UpstreamDiagnostics,
  credentialHeaders: () => Readonly<Record<string, string>> = () => ({}),
): Transport {
  if ('command' in server) {
    const transport = new CheckedStdioTransport(
      {
        command: server.command,
        args: server.args,
        env: { ...getDefaultEnvironment(), ...server.env },
        ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
        stderr: 'pipe',
      },
      (line) => diagnostics.onStrayStdoutLine(line),
    );
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') diagnostics.onStderrLine(line);
    });
    return transport;
  }
  const url = new URL(server.url);
  const requestInit: RequestInit = { headers: server.headers };
  if (server.transport === 'sse') {
    const withCredentials = fetchWithCredentials(fetch, credentialHeaders);
    return new SSEClientTransport(url, { requestInit, fetch: withCredentials, eventSourceInit: { fetch: withHeaders(server.headers, withCredentials) } });
  }
  return new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchWithCredentials(postsWithoutTransportSignal, credentialHeaders) });
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
function withHeaders(headers: Record<string, string>, base: typeof fetch): typeof fetch {
  return (input, init) => base(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } });
}
