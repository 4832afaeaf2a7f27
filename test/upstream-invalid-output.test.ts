// Issue 2, point 7: an upstream that "returns invalid JSON". A stdio server's stdout is its protocol
// stream; a line there that starts like a message but is none (cut off, garbled, endless) means an
// answer was lost and the stream cannot be trusted: every call in flight is answered at once with an
// error naming the server and quoting the line, the log keeps call and outcome, and the next call
// gets a fresh process. Lines that are no messages and do not pretend to be (banners, watcher output,
// JSON log lines) are tolerated, as SDK clients tolerate them. Real `agenttrail serve` and
// `agenttrail wrap` processes, real SDK clients.
//
// The per-server timeout is 60 s and each test has 15 s: an error that only came from the timeout
// shows as a failure (or a test timeout), never as a pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectClient, type ConnectedClient, REVISIONS } from './support/clients.js';
import { readEntries, startGateway, waitForEntries, wrapLaunch, type RunningGateway } from './support/gateway-process.js';
import { hasResultFor, lastCall, misbehavingServer, pidOf, receivedCalls, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';

const UPSTREAM_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 15_000;
/** Well under the upstream timeout; the real answer takes milliseconds. */
const AT_ONCE_MS = 3_000;
/** The SDK's stdio shutdown waits 2 s for stdin EOF and 2 s after SIGTERM before SIGKILL. */
const SOONER_THAN_SHUTDOWN_MS = 1_500;
const MAX_LINE_BYTES = 10 * 1024 * 1024;

async function protocolErrorOf(what: string, promise: Promise<unknown>, ms = AT_ONCE_MS): Promise<ProtocolError> {
  const error = await within(ms, what, rejectionOf(promise));
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

/** What an agent and a reviewer read: one short sentence, nothing the server wrote unescaped. */
function expectShortSafeMessage(message: string): void {
  expect(message).not.toMatch(/[\n\r\u0000-\u001f]/);
  expect(message.length).toBeLessThan(400);
}

const folder = mkdtempSync(join(tmpdir(), 'agenttrail-invalid-output-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe.each(REVISIONS)('a %s agent, agenttrail serve, a stdio upstream that writes invalid output', (revision) => {
  const callsFile = join(folder, `calls-${revision}.txt`);
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  const call = (name: string, args: Record<string, unknown> = {}) => agent.client.callTool({ name: `fixture__${name}`, arguments: args });

  beforeAll(async () => {
    gateway = await startGateway({
      fixture: { ...misbehavingServer({ callsFile }), timeoutMs: UPSTREAM_TIMEOUT_MS },
      garbled: { ...misbehavingServer({ garbageAtStart: true }), timeoutMs: UPSTREAM_TIMEOUT_MS },
    });
    agent = await connectClient({ transport: 'http', url: gateway.url, revision });
  });

  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
  });

  test('a cut-off answer: the call fails at once naming the server and quoting the line, the log keeps it, the next call gets a fresh process', async () => {
    const pidBefore = pidOf((await call('ok')) as never);

    const error = await protocolErrorOf('tools/call of fixture__garbage', call('garbage'));
    expect(error.message).toMatch(/^upstream server 'fixture' failed during tools\/call: it sent invalid JSON-RPC: a line that is not valid JSON \(\d+ bytes\): /);
    expect(error.message).toContain(`'{"jsonrpc":"2.0","id":`);
    expect(error.message).toContain('"type":"text","te\'');
    expect(error.message).toContain('it is restarted on the next call');
    expectShortSafeMessage(error.message);

    const pidAfter = pidOf((await call('ok')) as never);
    expect(pidAfter).not.toBe(pidBefore);

    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__garbage'));
    const { call: request, result } = lastCall(entries, 'fixture__garbage');
    expect(request).toMatchObject({ server: 'fixture', tool: 'garbage', payload: { params: { name: 'fixture__garbage' } } });
    expect(result).toMatchObject({ outcome: 'error', payload: { error: { message: error.message } } });
    expect(result!.index).toBeGreaterThan(request.index);
  }, TEST_TIMEOUT_MS);

  test('JSON that claims to be JSON-RPC but is no valid message: the same, quoting it', async () => {
    const error = await protocolErrorOf('tools/call of fixture__not-json-rpc', call('not-json-rpc'));
    expect(error.message).toContain(
      "it sent invalid JSON-RPC: JSON that is no JSON-RPC 2.0 request, notification or response (29 bytes): '{\"jsonrpc\":\"2.0\",\"answer\":42}'",
    );
    expectShortSafeMessage(error.message);
    expect(textsOf((await call('ok')) as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__not-json-rpc'));
    expect(lastCall(entries, 'fixture__not-json-rpc').result).toMatchObject({ outcome: 'error', payload: { error: { message: error.message } } });
  }, TEST_TIMEOUT_MS);

  test('every call in flight on that upstream is answered at once, not only the one whose answer was garbled', async () => {
    await call('ok');
    const slow = protocolErrorOf('tools/call of fixture__slow', call('slow', { ms: 50_000 }));
    // The slow call must be running upstream before the garbage arrives.
    await within(AT_ONCE_MS, 'the slow call reaching the server', (async () => {
      while (receivedCalls(callsFile).at(-1) !== 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
    })());
    const garbled = await protocolErrorOf('tools/call of fixture__garbage', call('garbage'));
    const waiting = await slow;
    expect(waiting.message).toBe(garbled.message);

    expect(textsOf((await call('ok')) as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__slow'));
    expect(lastCall(entries, 'fixture__slow').result).toMatchObject({ outcome: 'error', payload: { error: { message: waiting.message } } });
  }, TEST_TIMEOUT_MS);

  test('a server that ignores stdin EOF and SIGTERM after its garbage: the agent hears before the process is gone', async () => {
    const started = performance.now();
    const error = await protocolErrorOf('tools/call of fixture__garbage-lingering', call('garbage-lingering'), SOONER_THAN_SHUTDOWN_MS);
    expect(performance.now() - started).toBeLessThan(SOONER_THAN_SHUTDOWN_MS);
    expect(error.message).toContain('it sent invalid JSON-RPC: a line that is not valid JSON (');
    expect(error.message).toContain('"result":{"con\'');
    // The next call waits for the backoff, not for the old process to die.
    expect(textsOf((await call('ok')) as never)[0]).toMatch(/^ok: fine/);
  }, TEST_TIMEOUT_MS);

  test(`a line that never ends: cut off at ${MAX_LINE_BYTES} bytes with a clear error; the next call works`, async () => {
    const error = await protocolErrorOf('tools/call of fixture__endless-line', call('endless-line'));
    expect(error.message).toContain(`it sent invalid JSON-RPC: a line longer than ${MAX_LINE_BYTES} bytes: '{"jsonrpc":"2.0","id":`);
    expect(error.message).toContain('xxxx…\'');
    expectShortSafeMessage(error.message);

    expect(textsOf((await call('ok')) as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('fixture__endless-line'));
    expect(lastCall(entries, 'fixture__endless-line').result).toMatchObject({ outcome: 'error' });
  }, TEST_TIMEOUT_MS);

  test('garbage before the handshake is done: the server fails to start, and the agent is told why', async () => {
    const error = await protocolErrorOf('tools/call of garbled__ok', agent.client.callTool({ name: 'garbled__ok', arguments: {} }));
    expect(error.message).toBe(
      "upstream server 'garbled' failed to start: it sent invalid JSON-RPC: a line that is not valid JSON (45 bytes): '{\"jsonrpc\":\"2.0\",\"method\":\"notifications/mess'",
    );
    expect(textsOf((await call('ok')) as never)[0]).toMatch(/^ok: fine/);
    const entries = await waitForEntries(gateway.entries, hasResultFor('garbled__ok'));
    expect(lastCall(entries, 'garbled__ok').result).toMatchObject({ outcome: 'error', payload: { error: { message: error.message } } });
  }, TEST_TIMEOUT_MS);

  test('valid messages nobody waits for (progress after a cancel, an answer after a timeout) are no fault: the call succeeds, same process', async () => {
    const pidBefore = pidOf((await call('ok')) as never);
    const result = await within(AT_ONCE_MS, 'tools/call of fixture__stale-messages', call('stale-messages'));
    expect(textsOf(result as never)[0]).toBe(`stale-messages: answered (pid ${pidBefore})`);
    expect(pidOf((await call('ok')) as never)).toBe(pidBefore);
  }, TEST_TIMEOUT_MS);

  test('lines that are no messages and do not pretend to be (log lines, watcher output) are tolerated: same process, the operator sees them', async () => {
    const pidBefore = pidOf((await call('ok')) as never);
    const result = await within(AT_ONCE_MS, 'tools/call of fixture__chatty', call('chatty'));
    expect(textsOf(result as never)[0]).toBe(`chatty: answered anyway (pid ${pidBefore})`);
    expect(pidOf((await call('ok')) as never)).toBe(pidBefore);
    expect(gateway.output().stderr).toContain('[fixture] (on stdout) misbehaving-server: a log line printed on stdout by mistake');
    expect(gateway.output().stderr).toContain('[fixture] (on stdout) [nodemon] watching path(s): *.*');
    expect(gateway.output().stderr).toContain('[fixture] (on stdout) {"level":30,"msg":"misbehaving-server: a JSON log line on stdout"}');
  }, TEST_TIMEOUT_MS);
});

describe('agenttrail wrap -- a stdio server that writes invalid output', () => {
  const db = `file:${join(folder, 'wrap.db')}`;
  let agent: ConnectedClient;

  beforeAll(async () => {
    // wrap's default per-server timeout is 60 s as well.
    agent = await connectClient({ transport: 'stdio', server: wrapLaunch(misbehavingServer(), db, ['--name', 'fixture']), revision: '2025-11-25' });
  });

  afterAll(async () => {
    await agent?.close();
  });

  test('a cut-off answer: the agent hears at once, the log keeps it, the next call works', async () => {
    const pidBefore = pidOf((await agent.client.callTool({ name: 'ok', arguments: {} })) as never);
    const error = await protocolErrorOf('tools/call of garbage', agent.client.callTool({ name: 'garbage', arguments: {} }));
    expect(error.message).toMatch(/^upstream server 'fixture' failed during tools\/call: it sent invalid JSON-RPC: a line that is not valid JSON/);
    expectShortSafeMessage(error.message);

    expect(pidOf((await agent.client.callTool({ name: 'ok', arguments: {} })) as never)).not.toBe(pidBefore);
    const entries = await waitForEntries(() => readEntries(db), hasResultFor('garbage'));
    expect(lastCall(entries, 'garbage')).toMatchObject({
      call: { server: 'fixture', tool: 'garbage' },
      result: { outcome: 'error', payload: { error: { message: error.message } } },
    });
  }, TEST_TIMEOUT_MS);
});
