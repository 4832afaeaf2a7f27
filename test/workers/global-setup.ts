// Runs in Node before the Workers suite: what the Worker reaches on this machine (a real sqld and a
// real MCP server over Streamable HTTP and one over legacy HTTP+SSE, all on loopback), and the deployment's key, log secret and
// agent token (worker-deployment.ts), handed to vitest.workers.config.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startSqld } from '../support/sqld.js';
import installSqld from '../support/sqld-install.js';
import { startEverythingHttp, startEverythingSse } from '../support/upstream-servers.js';
import { prepareWorkerDeployment } from './worker-deployment.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sqldUrl: string;
    workerConfig: string;
    signerKey: string;
    verifierKey: string;
    logSecret: string;
    agentToken: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  installSqld();
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-workers-'));
  const sqld = await startSqld();
  const [upstream, legacyUpstream] = await Promise.all([startEverythingHttp(), startEverythingSse()]);
  const stop = async (): Promise<void> => {
    await Promise.all([upstream.close(), legacyUpstream.close(), sqld.remove()]);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const deployment = await prepareWorkerDeployment(folder, sqld.url, { everything: upstream.url.href, legacy: legacyUpstream.url.href });
    project.provide('sqldUrl', sqld.url);
    project.provide('workerConfig', deployment.config);
    project.provide('signerKey', deployment.signerKey);
    project.provide('verifierKey', deployment.verifierKey);
    project.provide('logSecret', deployment.logSecret);
    project.provide('agentToken', deployment.agentToken);
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
