// Issue 3, point 8: a gateway killed (SIGKILL) while it writes under load leaves a log that
// verifies, holding every call an agent got an answer for; restarted on the same database and key,
// it continues the same log. Real processes throughout: `agenttrail serve` with server-everything
// over stdio, several SDK clients over HTTP, and `agenttrail verify` run as a user runs it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { connectDatabase } from '../src/store/database-connection.js';
import { openStore } from '../src/store/open-store.js';
import type { StoredCheckpoint } from '../src/store/checkpoint-queries.js';
import { connectClient, type ClientRevision, type ConnectedClient } from './support/clients.js';
import { AGENTTRAIL_BIN, DEFAULT_ORIGIN, readEntries, startGateway, type RunningGateway } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const AGENTS = 6;
const ACKNOWLEDGED_BEFORE_KILL = 300;

const gateways: RunningGateway[] = [];
const clients: ConnectedClient[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  // A killed process has no exit code but a signal code: only the ones still running are stopped.
  for (const gateway of gateways) {
    if (gateway.process.exitCode === null && gateway.process.signalCode === null) await gateway.stop('SIGKILL');
  }
  if (gateways[0] !== undefined) rmSync(gateways[0].folder, { recursive: true, force: true });
  if (gateways[1] !== undefined) rmSync(gateways[1].folder, { recursive: true, force: true });
});

const servers = { everything: startEverythingStdio() };

/** What a call to `everything__echo` with `message` answers: the agent's acknowledgement. */
const EchoResultSchema = z.object({ content: z.array(z.object({ type: z.literal('text'), text: z.string() })).min(1) });

async function echo(agent: ConnectedClient, message: string, signal?: AbortSignal): Promise<void> {
  const options = { timeout: 10_000, ...(signal === undefined ? {} : { signal }) };
  const result = EchoResultSchema.parse(await agent.client.callTool({ name: 'everything__echo', arguments: { message } }, options));
  if (!result.content[0]!.text.includes(message)) throw new Error(`echo of ${message} answered ${result.content[0]!.text}`);
}

async function connectAgents(gateway: RunningGateway, count: number): Promise<ConnectedClient[]> {
  const revisions: ClientRevision[] = ['2025-11-25', '2026-07-28'];
  const agents = await Promise.all(
    Array.from({ length: count }, (_, k) =>
      connectClient({ transport: 'http', url: gateway.url, revision: revisions[k % 2]!, name: `durability-agent-${k}` }),
    ),
  );
  clients.push(...agents);
  return agents;
}

/** `agenttrail verify --db DB --json`, as a user runs it after the crash. */
async function runVerify(db: string): Promise<{ code: number | null; report: VerifyReport; stderr: string }> {
  const child = spawn(process.execPath, [AGENTTRAIL_BIN, 'verify', '--db', db, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, report: VerifyReportSchema.parse(JSON.parse(stdout)), stderr };
}

const VerifyReportSchema = z.object({
  ok: z.boolean(),
  logs: z.array(z.object({ log: z.string(), entries: z.number(), checkpoints: z.number(), keys: z.array(z.string()) })),
  failure: z.unknown(),
});
type VerifyReport = z.infer<typeof VerifyReportSchema>;

async function readCheckpoints(db: string): Promise<StoredCheckpoint[]> {
  const store = await openStore({ url: db });
  try {
    const all: StoredCheckpoint[] = [];
    for await (const page of store.checkpointRows(DEFAULT_ORIGIN)) all.push(...page);
    return all;
  } finally {
    await store.close();
  }
}

const messageOf = (entry: Entry): unknown =>
  (entry.payload as { params?: { arguments?: { message?: unknown } } } | undefined)?.params?.arguments?.message;

/** Every acknowledged message has its tool.call and, under the same call id, its tool.result. */
function expectRecorded(entries: readonly Entry[], acknowledged: readonly string[]): void {
  const calls = new Map<unknown, Entry>();
  for (const entry of entries) if (entry.kind === 'tool.call' && entry.name === 'everything__echo') calls.set(messageOf(entry), entry);
  const results = new Map(entries.filter((e) => e.kind === 'tool.result').map((e) => [e.call, e]));
  const missing = acknowledged.filter((message) => {
    const call = calls.get(message);
    const result = call === undefined ? undefined : results.get(call.call);
    return call === undefined || result?.outcome !== 'ok';
  });
  expect(missing, 'acknowledged calls without their tool.call and tool.result entries').toEqual([]);
}

/** The database header says WAL (bytes 18 and 19 are 2), and the write-ahead file is in use. */
function expectWalFile(db: string): void {
  const path = db.replace(/^file:/, '');
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  expect(header.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
  expect([header[18], header[19]], 'file format versions (2 = WAL)').toEqual([2, 2]);
  expect(existsSync(`${path}-wal`)).toBe(true);
}

test('a gateway killed under load leaves a log that verifies with every acknowledged call, and continues it after a restart', async () => {
  const first = await startGateway(servers);
  gateways.push(first);
  const agents = await connectAgents(first, AGENTS);

  const acknowledged: string[] = [];
  let killed = false;
  // A sessionful (2025) client does not always notice that the server died under its response
  // stream; once the replies that made it out have been read, the calls still waiting are dropped.
  const giveUp = new AbortController();
  const loops = agents.map(async (agent, k) => {
    for (let i = 0; !killed; i++) {
      const message = `agent ${k} call ${i}`;
      try {
        await echo(agent, message, giveUp.signal);
      } catch (error) {
        // Only the kill may interrupt a call; anything earlier is a failure of the gateway.
        if (!killed) throw error;
        return;
      }
      // A reply that arrives after the kill was still answered: it counts as acknowledged too.
      acknowledged.push(message);
    }
  });
  const killer = (async () => {
    while (acknowledged.length < ACKNOWLEDGED_BEFORE_KILL) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (first.process.exitCode !== null) throw new Error(`the gateway exited on its own:\n${first.output().stderr}`);
    }
    expectWalFile(first.db);
    killed = true;
    await first.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    giveUp.abort(new Error('the gateway was killed'));
  })();
  await Promise.all([killer, ...loops]);
  expect(first.process.signalCode).toBe('SIGKILL');
  await Promise.allSettled(clients.splice(0).map((agent) => agent.close()));
  expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);

  const afterCrash = await runVerify(first.db);
  expect(afterCrash.report.failure, afterCrash.stderr).toBeNull();
  expect(afterCrash.code).toBe(0);
  const crashed = await readEntries(first.db);
  expect(crashed.map((e) => e.index)).toEqual(crashed.map((_, i) => i));
  expectRecorded(crashed, acknowledged);
  const checkpointsAtCrash = await readCheckpoints(first.db);
  expect(checkpointsAtCrash.at(-1)?.size, 'the last checkpoint covers every stored entry').toBe(crashed.length);
  // Signing is batched: concurrent agents share checkpoints.
  expect(checkpointsAtCrash.length).toBeLessThan(crashed.length);

  // The same database and key, a new process.
  const second = await startGateway(servers, { log: { db: first.db, key: join(first.folder, 'gateway.key') } });
  gateways.push(second);
  expect(second.output().stderr).not.toMatch(/created the gateway signing key/);
  const [late, stateless] = await connectAgents(second, 2);
  const afterRestart: string[] = [];
  await Promise.all(
    [late!, stateless!].map(async (agent, k) => {
      for (let i = 0; i < 20; i++) {
        const message = `after restart ${k} call ${i}`;
        await echo(agent, message);
        afterRestart.push(message);
      }
    }),
  );
  expect(await second.stop('SIGTERM')).toBe(0);

  const final = await runVerify(first.db);
  expect(final.report.failure, final.stderr).toBeNull();
  expect(final.code).toBe(0);
  expect(final.report.logs.map((log) => log.log)).toEqual([DEFAULT_ORIGIN]);
  expect(final.report.logs[0]!.keys, 'every checkpoint is signed by the one gateway key').toHaveLength(1);

  const entries = await readEntries(first.db);
  expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));
  expect(entries.slice(0, crashed.length), 'the entries from before the crash are unchanged').toEqual(crashed);
  expect(entries.length).toBeGreaterThan(crashed.length + 2 * afterRestart.length);
  expectRecorded(entries, [...acknowledged, ...afterRestart]);
  const restartCalls = entries.filter((e) => e.kind === 'tool.call' && String(messageOf(e)).startsWith('after restart'));
  expect(Math.min(...restartCalls.map((e) => e.index))).toBeGreaterThanOrEqual(crashed.length);

  const checkpoints = await readCheckpoints(first.db);
  expect(checkpoints.slice(0, checkpointsAtCrash.length)).toEqual(checkpointsAtCrash);
  expect(checkpoints.at(-1)?.size).toBe(entries.length);
  expect(new Set(checkpoints.map((c) => c.key))).toEqual(new Set([checkpointsAtCrash[0]!.key]));
});

test('the connection the gateway writes through is in WAL mode with synchronous=FULL', async () => {
  // The gateway's own connection cannot be queried from outside its process; this opens a database
  // with the function the gateway opens its connections with (src/store/database-connection.ts).
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-durability-'));
  const client = await connectDatabase({ url: `file:${join(folder, 'audit.db')}` });
  try {
    expect((await client.execute('PRAGMA journal_mode')).rows[0]?.['journal_mode']).toBe('wal');
    expect((await client.execute('PRAGMA synchronous')).rows[0]?.['synchronous']).toBe(2);
  } finally {
    client.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
