// Issue 8, point 4: upstreams that flap. An HTTP tool server (server-everything over Streamable
// HTTP) goes away and comes back on the same port, twice; a stdio tool server is killed from
// outside, in the middle of a call and between calls. Calls during an outage fail at once with an
// error that names the upstream, the other upstream keeps working, every call has its outcome in
// the log, and calls go through again once the server is back, with the same gateway process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { connectAgentOfEachRevision, type ConnectedClient } from './support/clients.js';
import { startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, pidOf, receivedCalls, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';
import { startEverythingHttp, type RunningHttpServer } from './support/upstream-servers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** A call that must fail: fails the test on a result, and on a hang (as a failure, not a test timeout). */
async function refusalOf(call: Promise<unknown>): Promise<ProtocolError> {
  const error = await within(10_000, 'a call to an upstream that is down', rejectionOf(call));
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

/** Every call of `name` in the log with its outcome entry (waits until each has one): outcome and error message. */
async function outcomesOf(gateway: RunningGateway, name: string): Promise<{ outcome: string | undefined; message: string | undefined }[]> {
  const calls = (entries: Entry[]) => entries.filter((entry) => entry.kind === 'tool.call' && entry.name === name);
  const resultOf = (entries: Entry[], call: Entry) => entries.find((entry) => entry.kind === 'tool.result' && entry.call === call.call);
  const entries = await waitForEntries(gateway.entries, (all) => calls(all).every((call) => resultOf(all, call) !== undefined));
  return calls(entries).map((call) => {
    const result = resultOf(entries, call)!;
    return { outcome: result.outcome, message: (result.payload as { error?: { message: string } }).error?.message };
  });
}

describe('an HTTP upstream that goes away and comes back on the same port', () => {
  let upstream: RunningHttpServer;
  let gateway: RunningGateway;
  let agents: ConnectedClient[] = [];

  beforeAll(async () => {
    upstream = await startEverythingHttp();
    gateway = await startGateway({ web: { url: upstream.url.href }, fixture: misbehavingServer() });
    agents = await connectAgentOfEachRevision(gateway.url);
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
    await upstream?.close();
  });

  const echo = async (agent: ConnectedClient, message: string): Promise<string | undefined> =>
    textsOf((await agent.client.callTool({ name: 'web__echo', arguments: { message } })) as never)[0];

  test('calls meanwhile fail naming it, the other upstream works, and the first call once it is back goes through', async () => {
    for (const agent of agents) expect(await echo(agent, 'before')).toBe('Echo: before');
    const refusals: string[] = [];
    for (const round of [1, 2]) {
      await upstream.close();
      for (const agent of agents) {
        const refusal = await refusalOf(echo(agent, `while down ${round}`));
        expect(refusal.message).toBe(
          `upstream server 'web' failed during tools/call: cannot reach it (connect ECONNREFUSED 127.0.0.1:${upstream.port}); it is tried again on the next call`,
        );
        refusals.push(refusal.message);
        const meanwhile = await agent.client.callTool({ name: 'fixture__ok', arguments: { message: 'meanwhile' } });
        expect(textsOf(meanwhile as never)[0]).toMatch(/^ok: meanwhile/);
      }
      // A new process on the same port: it knows none of the gateway's sessions with the one before.
      upstream = await startEverythingHttp(upstream.port);
      for (const agent of agents) expect(await echo(agent, `back ${round}`)).toBe(`Echo: back ${round}`);
    }
    expect(gateway.process.exitCode).toBeNull();

    const ok = { outcome: 'ok', message: undefined };
    const outcomes = await outcomesOf(gateway, 'web__echo');
    expect(outcomes).toEqual([ok, ok, ...[0, 1].flatMap((round) => [...refusals.slice(2 * round, 2 * round + 2).map((message) => ({ outcome: 'error', message })), ok, ok])]);
  }, 60_000);
});

describe('a stdio upstream killed in the middle of a session', () => {
  const callsFile = join(mkdtempSync(join(tmpdir(), 'agenttrail-calls-')), 'calls.txt');
  let gateway: RunningGateway;
  let agents: ConnectedClient[] = [];

  beforeAll(async () => {
    gateway = await startGateway({ fixture: misbehavingServer({ callsFile }), other: misbehavingServer() });
    agents = await connectAgentOfEachRevision(gateway.url);
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  const pidServing = async (agent: ConnectedClient): Promise<number> =>
    Number(pidOf((await agent.client.callTool({ name: 'fixture__ok', arguments: {} })) as never));

  test('the call it was running fails naming it, the other upstream works, and the next call starts it again', async () => {
    const expected: { outcome: string; message?: string }[] = [];
    for (const agent of agents) {
      const first = await pidServing(agent);

      // Killed while it runs a call: the call fails at once, not after its 10 s.
      const slowCallsBefore = receivedCalls(callsFile).filter((name) => name === 'slow').length;
      const slow = agent.client.callTool({ name: 'fixture__slow', arguments: { ms: 10_000 } });
      while (receivedCalls(callsFile).filter((name) => name === 'slow').length === slowCallsBefore) await sleep(20);
      process.kill(first, 'SIGKILL');
      const refusal = await refusalOf(slow);
      expect(refusal.message).toBe(
        "upstream server 'fixture' failed during tools/call: the connection closed (the server exited or its stream ended); it is restarted on the next call",
      );
      expected.push({ outcome: 'error', message: refusal.message });
      const other = await agent.client.callTool({ name: 'other__ok', arguments: { message: 'meanwhile' } });
      expect(textsOf(other as never)[0]).toMatch(/^ok: meanwhile/);

      const second = await pidServing(agent);
      expect(second).not.toBe(first);

      // Killed between two calls: the next call finds it gone and starts a third process.
      process.kill(second, 'SIGKILL');
      await untilExited(second);
      const third = await pidServing(agent);
      expect([first, second]).not.toContain(third);
    }
    expect(gateway.process.exitCode).toBeNull();
    expect(await outcomesOf(gateway, 'fixture__slow')).toEqual(expected);
    expect((await outcomesOf(gateway, 'fixture__ok')).map((call) => call.outcome)).toEqual(Array(6).fill('ok'));
  }, 60_000);
});

async function untilExited(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}
