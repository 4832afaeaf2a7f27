import { serve } from '@hono/node-server';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { Hono } from 'hono';
import { jsonRpcErrorResponse } from '../http/json-rpc-error-response.js';
import { hostAndOriginGuard } from '../http/request-guards.js';
import type { RecordedToolSession } from '../review/recorded-tool-calls.js';
import { ReplayAnswers } from '../review/replay-answers.js';
import { createReplayServer } from '../review/replay-server.js';
import { onShutdownSignal } from './shutdown.js';

const LOOPBACK = '127.0.0.1';
const MCP_PATH = '/mcp';

/**
 * `agenttrail replay SESSION --serve`: plays the recorded session back as an MCP server, on this
 * process's stdin and stdout, or with `port` over Streamable HTTP on loopback (both revisions).
 * Resolves when stdin ends (stdio) or on SIGINT/SIGTERM.
 */
export async function serveReplay(recording: RecordedToolSession, port: number | undefined): Promise<void> {
  const answers = new ReplayAnswers(recording);
  const factory = () => createReplayServer(recording, answers);
  const onerror = (error: Error) => process.stderr.write(`agenttrail: ${error.message}\n`);
  const what = `session ${recording.session} of log ${recording.log} (${recording.tools.length} tools listed, ${recording.calls.length} tool calls recorded)`;
  if (port === undefined) {
    const handle = serveStdio(factory, { onerror });
    process.stderr.write(`agenttrail: replaying ${what} on stdin and stdout\n`);
    await new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.stdin.once('close', resolve);
      onShutdownSignal(resolve);
    });
    await handle.close();
    return;
  }
  const handler = createMcpHandler(factory, { onerror });
  const app = new Hono();
  // Loopback only, and against DNS rebinding: a web page must not play the recording to itself.
  app.use('*', hostAndOriginGuard({ allowedHosts: [], allowedOrigins: [] }));
  app.all(MCP_PATH, (c) => handler.fetch(c.req.raw));
  app.notFound((c) => jsonRpcErrorResponse(404, -32000, `no such endpoint ${c.req.path}: the replay is served at ${MCP_PATH}`));
  const server = serve({ fetch: app.fetch, hostname: LOOPBACK, port });
  const listening = await new Promise<number>((resolve, reject) => {
    server.once('listening', () => resolve((server.address() as { port: number }).port));
    server.once('error', (error) => reject(new Error(`cannot listen on ${LOOPBACK}:${port}: ${error.message}`)));
  });
  process.stdout.write(`AgentTrail is replaying ${what} at http://${LOOPBACK}:${listening}${MCP_PATH}\n`);
  await new Promise<void>((resolve) => onShutdownSignal(resolve));
  await handler.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closed;
}
