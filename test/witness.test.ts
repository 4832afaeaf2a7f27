import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import { DEFAULT_ORIGIN, startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { startTestWitness } from './support/test-witness.js';
import type { TestWitness } from './support/test-witness.js';
import { startEverythingStdio } from './support/upstream-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const agenttrail = (args: string[]): Promise<CliResult> => runAgenttrail(args);

/** A gateway whose log the witness knows, and a way to make echo calls through it. */
async function witnessedGateway(witness: TestWitness, logs: Record<string, string>): Promise<{ gateway: RunningGateway; echo: (n: number) => Promise<void> }> {
  const gateway = await startGateway(
    { everything: startEverythingStdio() },
    { log: { witnesses: [{ url: witness.url, key: witness.verifierKey }] } },
  );
  cleanup.push(() => gateway.stop());
  logs[DEFAULT_ORIGIN] = (await agenttrail(['keys', 'show', '--key', join(gateway.folder, 'gateway.key')])).stdout.trim();
  const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
  cleanup.push(() => agent.close());
  const echo = async (n: number): Promise<void> => {
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: `witnessed ${n}` } });
  };
  return { gateway, echo };
}

async function latestCheckpointSize(db: string): Promise<number> {
  const client = createClient({ url: db });
  try {
    return Number((await client.execute('SELECT MAX(size) AS size FROM checkpoints')).rows[0]?.['size'] ?? 0);
  } finally {
    client.close();
  }
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('witnesses (c2sp.org/tlog-witness)', () => {
  it('sends new checkpoints to a witness, stores its cosignatures, and verify checks them', async () => {
    const logs: Record<string, string> = {};
    const witness = await startTestWitness(logs);
    cleanup.push(() => witness.close());
    const { gateway, echo } = await witnessedGateway(witness, logs);
    for (let n = 0; n < 5; n++) await echo(n);
    await waitUntil(
      async () => witness.cosigned.get(DEFAULT_ORIGIN)?.size === (await latestCheckpointSize(gateway.db)),
      'the witness has cosigned the latest checkpoint',
    );
    const client = createClient({ url: gateway.db });
    const stored = await client.execute('SELECT size, witness, lines FROM cosignatures ORDER BY size');
    client.close();
    expect(stored.rows.length).toBeGreaterThan(0);
    expect(String(stored.rows.at(-1)!['lines'])).toMatch(/^\u2014 witness\.test\/w1 [A-Za-z0-9+/=]+\n$/);
    await gateway.stop();

    const verified = await agenttrail(['verify', '--db', gateway.db, '--key', logs[DEFAULT_ORIGIN]!, '--witness-key', witness.verifierKey, '--json']);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout) as { logs: { witnesses: { key: string; latestCosignedSize: number }[] }[] };
    expect(report.logs[0]!.witnesses).toEqual([{ key: witness.verifierKey, latestCosignedSize: witness.cosigned.get(DEFAULT_ORIGIN)!.size }]);
  });

  it('catches up a witness that knows an older size (409), with a consistency proof it checks', async () => {
    const logs: Record<string, string> = {};
    const witness = await startTestWitness(logs);
    cleanup.push(() => witness.close());
    const first = await witnessedGateway(witness, logs);
    for (let n = 0; n < 3; n++) await first.echo(n);
    await waitUntil(async () => witness.cosigned.get(DEFAULT_ORIGIN)?.size === (await latestCheckpointSize(first.gateway.db)), 'first cosignature');
    const cosignedBefore = witness.cosigned.get(DEFAULT_ORIGIN)!.size;
    await first.gateway.stop();

    // A second witness client (a restarted gateway) starts without knowing the witness's size.
    const restarted = await startGateway(
      { everything: startEverythingStdio() },
      { log: { db: first.gateway.db, key: join(first.gateway.folder, 'gateway.key'), witnesses: [{ url: witness.url, key: witness.verifierKey }] } },
    );
    cleanup.push(() => restarted.stop());
    const agent = await connectClient({ transport: 'http', url: restarted.url, revision: '2025-11-25' });
    cleanup.push(() => agent.close());
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'after restart' } });
    await waitUntil(
      async () => witness.cosigned.get(DEFAULT_ORIGIN)!.size === (await latestCheckpointSize(first.gateway.db)),
      'the witness has cosigned the restarted gateway\'s checkpoint',
    );
    expect(witness.cosigned.get(DEFAULT_ORIGIN)!.size).toBeGreaterThan(cosignedBefore);
    expect(witness.answers).toContain(409);
    expect(witness.answers).not.toContain(422);
    expect(witness.answers.at(-1)).toBe(200);
  });

  it('fails verify when a stored cosignature was altered, and when a required witness cosigned nothing', async () => {
    const logs: Record<string, string> = {};
    const witness = await startTestWitness(logs);
    cleanup.push(() => witness.close());
    const { gateway, echo } = await witnessedGateway(witness, logs);
    await echo(1);
    await waitUntil(async () => witness.cosigned.get(DEFAULT_ORIGIN)?.size === (await latestCheckpointSize(gateway.db)), 'cosigned');
    await gateway.stop();

    const other = await startTestWitness({}, 'witness.test/never-asked');
    cleanup.push(() => other.close());
    const unasked = await agenttrail(['verify', '--db', gateway.db, '--witness-key', other.verifierKey]);
    expect(unasked.code).toBe(1);
    expect(unasked.stdout).toMatch(/witness\.test\/never-asked\+[0-9a-f]{8}.*cosigned no checkpoint/);

    const client = createClient({ url: gateway.db });
    const { rows } = await client.execute('SELECT size, lines FROM cosignatures ORDER BY size DESC LIMIT 1');
    const lines = String(rows[0]!['lines']);
    // One character of the base64 signature (after the name) changed.
    const at = lines.lastIndexOf(' ') + 20;
    const flipped = lines.slice(0, at) + (lines[at] === 'A' ? 'B' : 'A') + lines.slice(at + 1);
    await client.execute({ sql: 'UPDATE cosignatures SET lines = ? WHERE size = ?', args: [flipped, Number(rows[0]!['size'])] });
    client.close();
    const altered = await agenttrail(['verify', '--db', gateway.db, '--witness-key', witness.verifierKey]);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(new RegExp(`checkpoint ${Number(rows[0]!['size'])}: .*cosignature by witness\\.test/w1`));
  });
});
