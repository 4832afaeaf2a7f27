// What an operator prepares before deploying the Worker, done for real in Node: a signer key
// (`agenttrail keys init`), a log secret, and an agent token added to the database with
// `agenttrail agents add`. The Workers suite and the `wrangler dev` test share it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase64 } from '../../src/ledger/base64.js';
import { runAgenttrail } from '../support/agenttrail-command.js';
import { WORKER_ORIGIN, workerConfig } from './worker-test-config.js';
import type { WorkerUpstreams } from './worker-test-config.js';

export interface WorkerDeployment {
  /** The AGENTTRAIL_CONFIG var. */
  readonly config: string;
  /** The AGENTTRAIL_SIGNER_KEY secret. */
  readonly signerKey: string;
  /** What an auditor passes to agenttrail verify --key. */
  readonly verifierKey: string;
  /** The AGENTTRAIL_LOG_SECRET secret. */
  readonly logSecret: string;
  /** The token of the agent `edge-agent`. */
  readonly agentToken: string;
}

/** Prepares a deployment whose log is on `sqldUrl`, with these upstreams; files go in `folder`. */
export async function prepareWorkerDeployment(folder: string, sqldUrl: string, upstreams: WorkerUpstreams): Promise<WorkerDeployment> {
  const keyFile = join(folder, 'agenttrail.key');
  const configFile = join(folder, 'agenttrail.json');
  const config = workerConfig(upstreams);
  writeFileSync(configFile, config);
  const init = await runAgenttrail(['keys', 'init', '--key', keyFile, '--origin', WORKER_ORIGIN]);
  if (init.code !== 0) throw new Error(`agenttrail keys init failed: ${init.stderr}`);
  const added = await runAgenttrail(['agents', 'add', 'edge-agent', '--config', configFile, '--db', sqldUrl, '--key', keyFile, '--json']);
  if (added.code !== 0) throw new Error(`agenttrail agents add failed: ${added.stderr}`);
  return {
    config,
    signerKey: readFileSync(keyFile, 'utf8'),
    verifierKey: init.stdout.trim(),
    logSecret: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
    agentToken: (JSON.parse(added.stdout) as { token: string }).token,
  };
}
