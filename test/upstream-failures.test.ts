// Issue 2, point 7, the upstream side: tool servers that do not start, crash in the middle of a call,
// never answer, or answer with something that is not JSON-RPC. Real `agenttrail serve` processes in
// front of real misbehaving stdio servers (test/fixtures/); real SDK clients of both revisions. Each
// test checks what the agent is told, that the gateway goes on serving, and what the log keeps.
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectClient, type ConnectedClient, REVISIONS } from './support/clients.js';
import { startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { exitsAtStartServer, hasResultFor, lastCall, misbehavingServer, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';

const HANG_TIMEOUT_MS = 500;
// Long enough that an error arriving quickly cannot be the per-request timeout.
const FIXTURE_TIMEOUT_MS = 15_000;

async function protocolErrorOf(promise: Promise<unknown>): Promise<ProtocolError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

describe.each(REVISIONS)('a %s agent behind the gateway', (revision) => {
  let gateway: RunningGateway;
  let agent: ConnectedClient;

  beforeAll(async () => {
    gateway = await startGateway({
      fixture: { ...misbehavingServer(), timeoutMs: FIXTURE_TIMEOUT_MS },
      slowpoke: { ...misbehavingServer(), timeoutMs: HANG_TIMEOUT_MS },
      latecomer: { ...misbehavingServer({ startDelayMs: HANG_TIMEOUT_MS * 3 }), timeoutMs: HANG_TIMEOUT_MS },
      broken: exitsAtStartServer(),
      missing: { command: '/no/such/mcp-server-command', args: ['--stdio'] } });
    agent = await connectClient({ transport: 'http', url: gateway.url, revision });
  });

  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
  });

  test('an upstream command that does not exist: the call fails naming the server, the others still work', async () => {
    const error = await protocolErrorOf(agent.client.callTool({ name: 'missing__ok', arguments: {} }));
    expect(error.message).toContain("upstream server 'missing' failed to start");
    expect(error.message).toContain('ENOENT');

    const result = await agent.client.callTool({ name: 'fixture__ok', arguments: { message: 'still here' } });
    expect(textsOf(result as never)[0]).toMatch(/^ok: still here \(pid \d+\)$/);

    const entries = await waitForEntries(gateway.entries, hasResultFor('missing__ok'));
    const { call, result: outcome } = lastCall(entries, 'missing__ok');
    expect(call).toMatchObject({ server: 'missing', tool: 'ok' });
    expect(outcome).toMatchObject({ outcome: 'error', payload: { error: { message: expect.stringContaining("'missing' failed to start") } } });
  });

  test('an upstream that exits at start: the call fails naming the server and quoting its last words', async () => {
    const error = await protocolErrorOf(agent.client.callTool({ name: 'broken__anything', arguments: {} }));
    expect(error.message).toContain("upstream server 'broken' failed to start");
    expect(error.message).toContain('MISSING_API_KEY is not set');

    const result = await agent.client.callTool({ name: 'slowpoke__ok', arguments: {} });
    expect(textsOf(result as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('broken__anything'));
    expect(lastCall(entries, 'broken__anything').result?.outcome).toBe('error');
  });

  test('an upstream that crashes mid-call: the agent is told, the log keeps call and error, the next call restarts it', async () => {
    const before = await agent.client.callTool({ name: 'fixture__ok', arguments: {} });
    const pidBefore = /pid (\d+)/.exec(textsOf(before as never)[0] ?? '')?.[1];
    expect(pidBefore).toBeDefined();

    const started = performance.now();
    const error = await protocolErrorOf(agent.client.callTool({ name: 'fixture__crash', arguments: {} }));
    expect(performance.now() - started).toBeLessThan(FIXTURE_TIMEOUT_MS / 3);
    expect(error.message).toContain("upstream server 'fixture' failed during tools/call");
    expect(error.message).toContain('crashing on purpose');
    expect(error.message).toContain('restarted on the next call');

    const after = await agent.client.callTool({ name: 'fixture__ok', arguments: {} });
    const pidAfter = /pid (\d+)/.exec(textsOf(after as never)[0] ?? '')?.[1];
    expect(pidAfter).toBeDefined();
    expect(pidAfter).not.toBe(pidBefore);

    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__crash'));
    const { call, result } = lastCall(entries, 'fixture__crash');
    expect(call).toMatchObject({ server: 'fixture', tool: 'crash', payload: { params: { name: 'fixture__crash' } } });
    expect(result).toMatchObject({ outcome: 'error', payload: { error: { message: error.message } } });
    expect(result!.index).toBeGreaterThan(call.index);
  });

  test(`an upstream that never answers: after timeoutMs (${HANG_TIMEOUT_MS}) the agent is told, the log says timeout`, async () => {
    const started = performance.now();
    const error = await protocolErrorOf(agent.client.callTool({ name: 'slowpoke__hang', arguments: {} }));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(HANG_TIMEOUT_MS + 3_000);
    expect(error.message).toBe(`upstream server 'slowpoke' did not answer tools/call within ${HANG_TIMEOUT_MS} ms`);

    // The same upstream goes on serving.
    const result = await agent.client.callTool({ name: 'slowpoke__ok', arguments: {} });
    expect(textsOf(result as never)[0]).toMatch(/^ok: fine/);

    const entries = await waitForEntries(gateway.entries, hasResultFor('slowpoke__hang'));
    expect(lastCall(entries, 'slowpoke__hang').result).toMatchObject({ outcome: 'timeout', payload: { error: { message: error.message } } });
  });

  test(`an upstream that takes longer to start than its timeoutMs (${HANG_TIMEOUT_MS}): it is started all the same, and its calls are held to timeoutMs`, async () => {
    const result = await agent.client.callTool({ name: 'latecomer__ok', arguments: { message: 'late but here' } });
    expect(textsOf(result as never)[0]).toMatch(/^ok: late but here \(pid \d+\)$/);

    const error = await protocolErrorOf(agent.client.callTool({ name: 'latecomer__hang', arguments: {} }));
    expect(error.message).toBe(`upstream server 'latecomer' did not answer tools/call within ${HANG_TIMEOUT_MS} ms`);
  });

  test('an upstream that answers with JSON that is no JSON-RPC message: a short error at once, then a fresh upstream', async () => {
    // A crash first, so that an error quoting an earlier process's output would show.
    await protocolErrorOf(agent.client.callTool({ name: 'fixture__crash', arguments: {} }));
    const error = await within(
      FIXTURE_TIMEOUT_MS / 3,
      'tools/call of fixture__not-json-rpc',
      protocolErrorOf(agent.client.callTool({ name: 'fixture__not-json-rpc', arguments: {} })),
    );
    expect(error.message).toContain("upstream server 'fixture'");
    expect(error.message).toContain('invalid JSON-RPC');
    // What the agent (and the reviewer) reads is a sentence, not a dump of validator internals.
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(400);
    expect(error.message, 'quotes the output of the process that crashed before').not.toContain('crashing on purpose');

    const result = await agent.client.callTool({ name: 'fixture__ok', arguments: {} });
    expect(textsOf(result as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__not-json-rpc'));
    expect(lastCall(entries, 'fixture__not-json-rpc').result).toMatchObject({ outcome: 'error' });
  });
});
