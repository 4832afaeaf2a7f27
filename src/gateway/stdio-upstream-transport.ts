import type { Transport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { StdioServerConfig } from '../config/config-schema.js';
import { CheckedStdioTransport } from './checked-stdio-transport.js';
import type { UpstreamDiagnostics } from './upstream-transport.js';

/**
 * Spawns a stdio server (Node only). It gets the SDK's minimal default environment plus its
 * configured `env`, never the gateway's whole environment, so secrets the gateway holds do not leak
 * into every tool server.
 */
export function createStdioUpstreamTransport(server: StdioServerConfig, diagnostics: UpstreamDiagnostics): Transport {
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
