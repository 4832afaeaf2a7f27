import { SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { ServerConfig } from '../config/config-schema.js';

/** How a transport to one upstream reports the upstream's own diagnostics (a stdio server's stderr). */
export interface UpstreamDiagnostics {
  onStderrLine(line: string): void;
}

/**
 * The SDK probes the revision of a server on its own stdio transport in a throw-away second process
 * (a 2025-era server may exit on a request before initialize), but on a subclass in the connection
 * itself. A server the config says speaks 2026-07-28 answers the probe, so it is started only once.
 */
class InPlaceProbeStdioTransport extends StdioClientTransport {}

/**
 * Builds the SDK client transport for one configured upstream. A stdio server gets the SDK's minimal
 * default environment plus its configured `env`, never the gateway's whole environment, so secrets
 * the gateway holds do not leak into every tool server.
 */
export function createUpstreamTransport(server: ServerConfig, diagnostics: UpstreamDiagnostics, probe: 'in-place' | 'isolated'): Transport {
  if ('command' in server) {
    const Stdio = probe === 'in-place' ? InPlaceProbeStdioTransport : StdioClientTransport;
    const transport = new Stdio({
      command: server.command,
      args: server.args,
      env: { ...getDefaultEnvironment(), ...server.env },
      ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') diagnostics.onStderrLine(line);
    });
    return transport;
  }
  const url = new URL(server.url);
  const requestInit: RequestInit = { headers: server.headers };
  return server.transport === 'sse'
    ? new SSEClientTransport(url, { requestInit, eventSourceInit: { fetch: withHeaders(server.headers) } })
    : new StreamableHTTPClientTransport(url, { requestInit });
}

/** The legacy SSE GET stream is opened by EventSource, which takes headers only through its fetch. */
function withHeaders(headers: Record<string, string>): typeof fetch {
  return (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } });
}
