// What a test needs to show that secrets stay out of everything a gateway leaves behind, and that
// what the log says of a credential is its keyed fingerprint.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunningGateway } from './gateway-process.js';
import { runAgenttrail } from './run-agenttrail.js';

/** `hmac-sha256:HEX` of `value` under the log secret in `folder`, computed independently of the gateway. */
export function keyedFingerprint(folder: string, value: string): string {
  const logSecret = Buffer.from(readFileSync(join(folder, 'agenttrail.secret'), 'utf8').trim(), 'base64');
  return `hmac-sha256:${createHmac('sha256', logSecret).update(value).digest('hex')}`;
}

/**
 * Everything of the gateway a person could read, as one text: every file in its folder (the
 * database and its WAL among them), its whole log exported in every file format (an evidence
 * bundle, JSON Lines, OCSF events), and what it printed. The log must verify first.
 */
export async function everythingRecorded(gateway: RunningGateway): Promise<string> {
  const bundle = join(gateway.folder, 'evidence.jsonl');
  const exports = [
    await runAgenttrail(['export', '--db', gateway.db, '--format', 'bundle', '--out', bundle]),
    await runAgenttrail(['export', '--db', gateway.db, '--format', 'jsonl']),
    await runAgenttrail(['export', '--db', gateway.db, '--format', 'ocsf']),
  ];
  for (const exported of exports) expect(exported.code, exported.stderr).toBe(0);
  const verified = await runAgenttrail(['verify', '--db', gateway.db]);
  expect(verified.code, verified.stderr).toBe(0);
  const files = readdirSync(gateway.folder).map((name) => readFileSync(join(gateway.folder, name)).toString('latin1'));
  return [...files, gateway.output().stdout, gateway.output().stderr, ...exports.flatMap((exported) => [exported.stdout, exported.stderr])].join('\n');
}
