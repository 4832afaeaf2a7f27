// Issue 8, point 4: faults under load, each with real processes. The database server (sqld) is
// killed and started again while agents call: calls fail closed with an error that says why, then
// go through again with the same gateway process. The gateway itself is SIGKILLed while agents
// call: every call it had answered is in the log, the log verifies, and the gateway started again
// continues the same log.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { readEntries, startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, textsOf } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startSqld } from './support/sqld.js';
import type { RunningSqld } from './support/sqld.js';

const AGENTS = 4;
const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

interface Load {
  /** Messages of the calls whose result an agent received, in the order they came. */
  readonly acknowledged: string[];
  /** When each refused or failed call failed (Date.now()), and why. */
  readonly failures: { at: number; message: string }[];
  stop(): Promise<void>;
}

/** Each agent calls the fixture's `ok` tool, one call after another, until stopped. */
function startLoad(agents: ConnectedClient[], prefix: string): Load {
  let running = true;
  const acknowledged: string[] = [];
  const failures: Load['failures'] = [];
  const loops = agents.map(async (agent, which) => {
    for (let n = 0; running; n++) {
      const message = `${prefix}/${which}/${n}`;
      try {
        const result = await agent.client.callTool({ name: 'fixture__ok', arguments: { message } }, { timeout: 10_000 });
        if (textsOf(result as never)[0]?.startsWith(`ok: ${message} `)) acknowledged.push(message);
      } catch (error) {
        failures.push({ at: Date.now(), message: error instanceof Error ? error.message : String(error) });
        await sleep(25);
      }
    }
  });
  return {
    acknowledged,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

function connectAgents(gateway: RunningGateway): Promise<ConnectedClient[]> {
  return Promise.all(
    Array.from({ length: AGENTS }, (_, n) => connectClient({ transport: 'http', url: gateway.url, revision: n % 2 === 0 ? '2025-11-25' : '2026-07-28' })),
  );
}

const calledMessages = (entries: Entry[]): Set<string> =>
  new Set(
    entries
      .filter((entry) => entry.kind === 'tool.call')
      .map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message),
  );

/** Waits until `count()` has grown by `more` since the call, so that load is really running. */
async function untilGrown(count: () => number, more: number, timeoutMs = 15_000): Promise<void> {
  const start = count();
  const deadline = Date.now() + timeoutMs;
  while (count() < start + more) {
    if (Date.now() > deadline) throw new Error(`load stalled at ${count()} (wanted ${start + more})`);
    await sleep(20);
  }
}

async function verifierKeyOf(gateway: RunningGateway): Promise<string> {
  return (await runAgenttrail(['keys', 'show', '--key', join(gateway.folder, 'gateway.key')])).stdout.trim();
}

describe('the database server killed and started again under load', () => {
  let sqld: RunningSqld;
  let gateway: RunningGateway;
  let agents: ConnectedClient[] = [];

  beforeAll(async () => {
    sqld = await startSqld();
    gateway = await startGateway({ fixture: misbehavingServer() }, { log: { db: sqld.url } });
    agents = await connectAgents(gateway);
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => undefined)));
    await gateway?.stop();
    await sqld?.remove();
  });

  it('refuses calls with a reason while it is gone, and records them again once it is back, with the same gateway process', async () => {
    const load = startLoad(agents, 'sqld');
    await untilGrown(() => load.acknowledged.length, 40);

    await sqld.stop('SIGKILL');
    const down = Date.now();
    await untilGrown(() => load.failures.length, 8);
    const acknowledgedWhileDown = load.acknowledged.length;
    await sleep(300);
    // Nothing is answered while no write can land: the log is written before a call goes upstream.
    expect(load.acknowledged.length).toBeLessThanOrEqual(acknowledgedWhileDown + AGENTS);

    await sqld.start();
    const up = Date.now();
    await untilGrown(() => load.acknowledged.length, 40);
    await load.stop();

    expect(gateway.process.exitCode).toBeNull();
    const refusedWhileDown = load.failures.filter((failure) => failure.at > down && failure.at < up);
    expect(refusedWhileDown.length).toBeGreaterThan(0);
    // A call is refused when its request cannot be recorded, and its outcome withheld when the
    // outcome cannot be. Commits in flight when the server died end with "other side closed";
    // later ones cannot connect.
    for (const failure of refusedWhileDown) {
      expect(failure.message).toMatch(
        /^(call refused:|the call ran, but its outcome was withheld because) the audit log cannot be written \(audit log write failed: cannot reach the database server: /,
      );
    }
    expect(refusedWhileDown.some((failure) => /connect ECONNREFUSED 127\.0\.0\.1:\d+/.test(failure.message))).toBe(true);

    const logged = calledMessages(await readEntries(sqld.url));
    expect(load.acknowledged.filter((message) => !logged.has(message))).toEqual([]);
    const verify = await runAgenttrail(['verify', '--db', sqld.url, '--key', await verifierKeyOf(gateway)]);
    expect(verify.code, verify.stdout).toBe(0);
  }, 60_000);
});

describe('the gateway SIGKILLed under load', () => {
  it('has every call it answered in the log, which verifies, and continues the same log once started again', async () => {
    const gateway = await startGateway({ fixture: misbehavingServer() });
    const agents = await connectAgents(gateway);
    const load = startLoad(agents, 'before');
    let restarted: RunningGateway | undefined;
    try {
      await untilGrown(() => load.acknowledged.length, 100);
      await gateway.stop('SIGKILL');
      await load.stop();
      await Promise.all(agents.map((agent) => agent.close().catch(() => undefined)));

      const afterCrash = await readEntries(gateway.db);
      const logged = calledMessages(afterCrash);
      expect(load.acknowledged.filter((message) => !logged.has(message))).toEqual([]);
      const key = await verifierKeyOf(gateway);
      const verify = await runAgenttrail(['verify', '--db', gateway.db, '--key', key]);
      expect(verify.code, verify.stdout).toBe(0);

      restarted = await startGateway({ fixture: misbehavingServer() }, { folder: gateway.folder });
      const agent = await connectClient({ transport: 'http', url: restarted.url, revision: '2026-07-28' });
      try {
        await agent.client.callTool({ name: 'fixture__ok', arguments: { message: 'after the restart' } });
      } finally {
        await agent.close();
      }
      const continued = await readEntries(gateway.db);
      expect(continued.slice(0, afterCrash.length)).toEqual(afterCrash);
      expect(continued.find((entry) => calledMessages([entry]).has('after the restart'))?.index).toBeGreaterThanOrEqual(afterCrash.length);
      expect(continued.map((entry) => entry.index)).toEqual(continued.map((_, position) => position));
      const again = await runAgenttrail(['verify', '--db', gateway.db, '--key', key, '--json']);
      expect(again.code, again.stdout).toBe(0);
      expect((JSON.parse(again.stdout) as { logs: { entries: number; keys: string[] }[] }).logs).toEqual([
        expect.objectContaining({ entries: continued.length, keys: [key] }),
      ]);
    } finally {
      await load.stop();
      await restarted?.stop();
    }
  }, 60_000);
});
