import { expect } from 'vitest';
import { keyFileBeside } from './gateway-process.js';
import type { RunningGateway } from './gateway-process.js';
import { runAgenttrail } from './run-agenttrail.js';

/** Adds a principal to the gateway's database with `agenttrail agents add`, and returns its token. */
export async function addPrincipal(gateway: RunningGateway, name: string, role = 'agent'): Promise<string> {
  const added = await runAgenttrail(['agents', 'add', name, '--role', role, '--db', gateway.db, '--key', keyFileBeside(gateway.db), '--json']);
  expect(added.code, added.stderr).toBe(0);
  return (JSON.parse(added.stdout) as { token: string }).token;
}
