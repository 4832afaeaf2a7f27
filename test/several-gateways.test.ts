// Issue 8, point 2: three `agenttrail serve` processes on one libSQL server (a real sqld), each
// the writer of its own log (its log.origin), under concurrent calls from real SDK clients of both
// revisions. Nothing acknowledged to an agent is missing from its gateway's log, and one
// `agenttrail verify` checks every log in the database.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { readEntries, startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, textsOf } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startSqld } from './support/sqld.js';
import type { RunningSqld } from './support/sqld.js';

const INSTANCES = ['a', 'b', 'c'] as const;
const AGENTS_PER_INSTANCE = 4;
const CALLS_PER_AGENT = 25;
const originOf = (instance: string): string => `gateway-${instance}.test/agenttrail`;

let sqld: RunningSqld;
let gateways: RunningGateway[] = [];

beforeAll(async () => {
  sqld = await startSqld();
  // Started together, so they also migrate the new database at the same time.
  gateways = await Promise.all(INSTANCES.map((instance) => startGateway({ fixture: misbehavingServer() }, { log: { db: sqld.url, origin: originOf(instance) } })));
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await sqld?.remove();
});

const VerifyJson = z.object({
  ok: z.boolean(),
  logs: z.array(z.object({ log: z.string(), entries: z.number() })),
  failure: z.unknown(),
});

const messagesOf = (entries: Entry[]): string[] =>
  entries
    .filter((entry) => entry.kind === 'tool.call')
    .map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message);

it('three gateways on one sqld, each its own log: every acknowledged call is in its log, and verify checks all three', async () => {
  const agents: { instance: string; agent: ConnectedClient }[] = [];
  try {
    for (const [position, instance] of INSTANCES.entries()) {
      for (let n = 0; n < AGENTS_PER_INSTANCE; n++) {
        const agent = await connectClient({ transport: 'http', url: gateways[position]!.url, revision: REVISIONS[n % REVISIONS.length]!, name: `agent-${instance}-${n}` });
        agents.push({ instance, agent });
      }
    }
    const calls = agents.flatMap(({ instance, agent }, which) =>
      Array.from({ length: CALLS_PER_AGENT }, async (_, n) => {
        const message = `${instance}/${which}/${n}`;
        const result = await agent.client.callTool({ name: 'fixture__ok', arguments: { message } });
        return { instance, message, text: textsOf(result as never)[0] };
      }),
    );
    const settled = await Promise.allSettled(calls);
    const acknowledged = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    for (const { message, text } of acknowledged) expect(text).toMatch(new RegExp(`^ok: ${message} `));

    for (const instance of INSTANCES) {
      const entries = await readEntries(sqld.url, originOf(instance));
      const logged = messagesOf(entries);
      const expected = acknowledged.filter((call) => call.instance === instance).map((call) => call.message);
      expect(logged.length, `tool.call entries of ${instance}`).toBe(expected.length);
      expect(new Set(logged)).toEqual(new Set(expected));
      expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, position) => position));
    }
  } finally {
    await Promise.all(agents.map(({ agent }) => agent.close()));
  }

  const verify = await runAgenttrail(['verify', '--db', sqld.url, '--json']);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const report = VerifyJson.parse(JSON.parse(verify.stdout));
  expect(report.logs.map((log) => log.log)).toEqual(INSTANCES.map(originOf));
  for (const log of report.logs) expect(log.entries).toBeGreaterThanOrEqual(2 * AGENTS_PER_INSTANCE * CALLS_PER_AGENT);
}, 90_000);

it('a fourth gateway given the log.origin of a running one, with a key of its own, refuses to start and writes nothing', async () => {
  const before = await readEntries(sqld.url, originOf('a'));
  await expect(startGateway({ fixture: misbehavingServer() }, { log: { db: sqld.url, origin: originOf('a') } })).rejects.toThrow(
    new RegExp(`exited with 2:[\\s\\S]*log "${originOf('a')}" is signed by .*, not by this gateway's key .*give each gateway instance its own log\\.origin`),
  );
  expect(await readEntries(sqld.url, originOf('a'))).toEqual(before);
  expect((await runAgenttrail(['verify', '--db', sqld.url])).code).toBe(0);
});
