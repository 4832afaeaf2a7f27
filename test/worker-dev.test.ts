// Issue 8, point 3: `wrangler dev --local` runs the Worker offline, in workerd on this machine. An
// agent calls a real MCP server through it, the call lands in a real sqld, and `agenttrail verify`
// checks the log as an auditor would.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import { textsOf } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startSqld } from './support/sqld.js';
import type { RunningSqld } from './support/sqld.js';
import { freePort, startEverythingHttp } from './support/upstream-servers.js';
import type { RunningHttpServer } from './support/upstream-servers.js';
import { prepareWorkerDeployment } from './workers/worker-deployment.js';
import type { WorkerDeployment } from './workers/worker-deployment.js';
import { WORKER_ORIGIN } from './workers/worker-test-config.js';

const WRANGLER = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');
const READY_TIMEOUT_MS = 60_000;

let folder: string;
let sqld: RunningSqld;
let upstream: RunningHttpServer;
let deployment: WorkerDeployment;
let wrangler: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'agenttrail-wrangler-dev-'));
  sqld = await startSqld();
  upstream = await startEverythingHttp();
  deployment = await prepareWorkerDeployment(folder, sqld.url, { everything: upstream.url.href });
});

afterAll(async () => {
  if (wrangler !== undefined && wrangler.exitCode === null) {
    const exited = new Promise((resolve) => wrangler!.once('exit', resolve));
    wrangler.kill('SIGTERM');
    await exited;
  }
  await Promise.all([upstream?.close(), sqld?.remove()]);
  rmSync(folder, { recursive: true, force: true });
});

/** `wrangler dev --local` with the secrets in an env file, as .dev.vars holds them on a developer's machine. */
async function startWranglerDev(): Promise<string> {
  const envFile = join(folder, 'worker.env');
  const secrets = {
    AGENTTRAIL_CONFIG: deployment.config,
    AGENTTRAIL_DB: sqld.url,
    AGENTTRAIL_SIGNER_KEY: deployment.signerKey.trim(),
    AGENTTRAIL_LOG_SECRET: deployment.logSecret,
  };
  writeFileSync(envFile, Object.entries(secrets).map(([name, value]) => `${name}='${value}'\n`).join(''));
  const port = await freePort();
  const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--env-file', envFile, '--persist-to', join(folder, 'state'), '--show-interactive-dev-session=false'];
  const child = spawn(process.execPath, [WRANGLER, ...args], { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
  wrangler = child;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    const read = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes(`Ready on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited with ${code}:\n${output}`));
    });
  });
  await ready;
  return `http://127.0.0.1:${port}/mcp`;
}

it('wrangler dev --local serves the gateway offline: a call reaches the upstream, lands in sqld, and the log verifies', async () => {
  const url = await startWranglerDev();
  const agent = await connectClient({ transport: 'http', url, revision: '2025-11-25', headers: { authorization: `Bearer ${deployment.agentToken}` } });
  try {
    const result = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'from wrangler dev' } });
    expect(textsOf(result as never)).toEqual(['Echo: from wrangler dev']);
  } finally {
    await agent.close();
  }
  const verified = await runAgenttrail(['verify', '--db', sqld.url, '--key', deployment.verifierKey, '--json']);
  expect(verified.code, verified.stderr).toBe(0);
  const report = JSON.parse(verified.stdout) as { logs: { log: string; entries: number }[] };
  expect(report.logs.map((log) => log.log)).toEqual([WORKER_ORIGIN]);
  const sessions = await runAgenttrail(['sessions', '--db', sqld.url, '--agent', 'edge-agent', '--json']);
  expect(sessions.code, sessions.stderr).toBe(0);
  expect((JSON.parse(sessions.stdout) as { sessions: { agent: { id?: string }; calls: number }[] }).sessions).toEqual([
    expect.objectContaining({ agent: expect.objectContaining({ id: 'edge-agent', transport: 'http' }), calls: 1 }),
  ]);
}, 120_000);
