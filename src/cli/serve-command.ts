import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from 'zod';
import { loadConfigFile } from '../config/load-config-file.js';
import { createPrincipalDirectory } from '../auth/principal-directory.js';
import { createAuditedGatewayApp } from '../http/audited-gateway-app.js';
import { openAuditedGateway } from './audited-gateway.js';
import { onShutdownSignal } from './shutdown.js';
import { openWebUi } from './web-ui-setup.js';

export const ServeOptionsSchema = z.strictObject({
  config: z.string().min(1).default('agenttrail.yaml'),
  db: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.coerce.number<string>().int().min(0).max(65_535, 'expected a port from 0 to 65535').optional(),
});
export type ServeOptions = z.infer<typeof ServeOptionsSchema>;

/** `agenttrail serve`: resolves once the gateway has shut down after SIGINT/SIGTERM. */
export async function runServe(options: ServeOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const { config } = await loadConfigFile(options.config, env);
  const listen = { ...config.listen, host: options.host ?? config.listen.host, port: options.port ?? config.listen.port };
  const { gateway, database, desk, githubSecret, closeWatches } = await openAuditedGateway(config, new Map(Object.entries(config.servers)), options, env, {
    prefixNames: config.naming.prefix,
    onStderrLine: (server, line) => console.error(`[${server}] ${line}`),
  });
  const principals = createPrincipalDirectory((tokenHash) => database.store.principalByTokenHash(tokenHash));
  const webUi = await openWebUi(config, options, env, { principals, desk });
  const http = createAuditedGatewayApp({
    gateway,
    config: { auth: config.auth, listen },
    principals,
    extras: { api: { desk, principals }, events: { principals, githubSecret }, ui: webUi.options },
    remoteAddressOf: (c) => getConnInfo(c).remote.address,
  });
  const server = serve({ fetch: http.app.fetch, hostname: listen.host, port: listen.port });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('listening', () => resolve((server.address() as { port: number }).port));
    server.once('error', (error) => reject(new Error(`cannot listen on ${listen.host}:${listen.port}: ${error.message}`)));
  });
  // Requests whose answer is still being written. A GET is an agent's standing notification stream,
  // which never ends by itself, so it must not hold up a shutdown.
  let answering = 0;
  let allAnswered: (() => void) | undefined;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') return;
    answering += 1;
    response.once('close', () => {
      answering -= 1;
      if (answering === 0) allAnswered?.();
    });
  });
  const shownHost = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  process.stdout.write(`AgentTrail is serving MCP at http://${shownHost}:${port}${listen.path}\n`);
  process.stdout.write(`Web UI for reviewers and approvers: http://${shownHost}:${port}/ui\n`);
  process.stdout.write(`Upstreams: ${Object.keys(config.servers).join(', ')}. Log '${config.log.origin}' in ${database.url}\n`);

  await new Promise<void>((resolve) => onShutdownSignal(resolve));
  process.stderr.write('agenttrail: shutting down; finishing in-flight calls and log writes\n');
  // No new connections; the calls in flight answer; then the sessions end, and with them their GET
  // streams, which would otherwise keep the server (and this process) open for good.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (answering > 0) await new Promise<void>((resolve) => (allAnswered = resolve));
  await closeWatches();
  await http.close();
  await gateway.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closed;
  webUi.close();
  await database.close();
}
