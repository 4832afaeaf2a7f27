// Issue 2, point 7: when the audit log cannot be written, the call is refused and never reaches the
// tool server (fail-closed). The database is made unwritable for real: another libSQL connection
// holds its write lock (BEGIN IMMEDIATE) for longer than the gateway's busy timeout (5 s). The
// fixture server writes down every call it receives, which proves the refused call never ran.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectAgentOfEachRevision, type ConnectedClient } from './support/clients.js';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, okMessages, receivedCalls, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';

const callsFile = join(mkdtempSync(join(tmpdir(), 'agenttrail-calls-')), 'calls.txt');
let gateway: RunningGateway;
let sessionAgent: ConnectedClient;
let statelessAgent: ConnectedClient;

beforeAll(async () => {
  gateway = await startGateway({ fixture: misbehavingServer({ callsFile }) });
  [sessionAgent, statelessAgent] = await connectAgentOfEachRevision(gateway.url);
});

afterAll(async () => {
  await Promise.all([sessionAgent?.close(), statelessAgent?.close()]);
  await gateway?.stop();
});

const say = (agent: ConnectedClient, message: string) => agent.client.callTool({ name: 'fixture__ok', arguments: { message } });

test('a locked audit database: calls are refused with a JSON-RPC error, the upstream never sees them, earlier entries stay', async () => {
  expect(textsOf((await say(sessionAgent, 'before')) as never)[0]).toMatch(/^ok: before/);
  expect(textsOf((await say(statelessAgent, 'before, stateless')) as never)[0]).toMatch(/^ok: before, stateless/);
  const before = await gateway.entries();
  expect(before.filter((entry) => entry.kind === 'tool.result').map((entry) => entry.outcome)).toEqual(['ok', 'ok']);
  expect(receivedCalls(callsFile)).toEqual(['ok', 'ok']);

  const locker = createClient({ url: gateway.db });
  const lock = await locker.transaction('write');
  let refusals: Error[];
  try {
    refusals = await within(
      15_000,
      'calls while the audit log is locked',
      Promise.all([rejectionOf(say(sessionAgent, 'while locked')), rejectionOf(say(statelessAgent, 'while locked, stateless'))]),
    );
  } finally {
    await lock.rollback();
    lock.close();
    locker.close();
  }

  for (const refusal of refusals) {
    expect(refusal).toBeInstanceOf(ProtocolError);
    expect((refusal as ProtocolError).code).toBe(-32603);
    expect(refusal.message).toMatch(/^call refused: the audit log cannot be written \(audit log write failed: .*(locked|busy)/i);
  }
  // The tool server never got the refused calls.
  expect(receivedCalls(callsFile)).toEqual(['ok', 'ok']);

  // Once the lock is gone the gateway records and forwards again, and nothing written before was lost.
  expect(textsOf((await say(sessionAgent, 'after')) as never)[0]).toMatch(/^ok: after/);
  expect(textsOf((await say(statelessAgent, 'after, stateless')) as never)[0]).toMatch(/^ok: after, stateless/);
  expect(receivedCalls(callsFile)).toEqual(['ok', 'ok', 'ok', 'ok']);
  const after = await gateway.entries();
  expect(after.slice(0, before.length)).toEqual(before);
  expect(after.map((entry) => entry.index)).toEqual(after.map((_, position) => position));
  expect(okMessages(after)).toEqual(['before', 'before, stateless', 'after', 'after, stateless']);
  expect(after.filter((entry) => entry.kind === 'tool.result').every((entry) => entry.outcome === 'ok')).toBe(true);
}, 40_000);
