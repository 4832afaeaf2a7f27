import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { EntryDraft } from '../src/ledger/entry.js';
import { RunningCalls } from '../src/store/running-calls.js';

// A linger that ran its course would take ten minutes, far past the test's timeout: each test
// that resolves shows that the commit did not wait for it.
const NEVER_ENDING = 600_000;

function request(call: string): EntryDraft {
  return { v: 1, time: '2026-01-01T00:00:00.000Z', kind: 'tool.call', session: 's', agent: { transport: 'stdio' }, call };
}

function result(call: string): EntryDraft {
  return { ...request(call), kind: 'tool.result', outcome: 'ok' };
}

describe('RunningCalls', () => {
  it('does not wait when no call is running', async () => {
    const running = new RunningCalls({ maxMs: NEVER_ENDING, recentMs: NEVER_ENDING });
    running.committed([request('a')]);
    running.queued(result('a'));
    await running.linger();
  });

  it('waits until every call that has just gone upstream has queued its result', async () => {
    const running = new RunningCalls({ maxMs: NEVER_ENDING, recentMs: NEVER_ENDING });
    running.committed([request('a'), request('b'), result('c')]);
    let lingered = false;
    const linger = running.linger().then(() => (lingered = true));

    running.queued(result('a'));
    await sleep(10);
    expect(lingered).toBe(false);
    running.queued(request('b')); // another entry of the call (e.g. an approval) does not end it
    await sleep(10);
    expect(lingered).toBe(false);
    running.queued(result('b'));
    await linger;
  });

  it('does not wait for a call that has run for longer than a fast tool takes', async () => {
    const running = new RunningCalls({ maxMs: NEVER_ENDING, recentMs: 20 });
    running.committed([request('slow')]);
    await sleep(40);
    await running.linger();
  });

  it('waits no longer than its most', async () => {
    const running = new RunningCalls({ maxMs: 20, recentMs: NEVER_ENDING });
    running.committed([request('held')]);
    await running.linger();
  });

  it('never waits when the most is 0', async () => {
    const running = new RunningCalls({ maxMs: 0, recentMs: NEVER_ENDING });
    running.committed([request('a')]);
    await running.linger();
  });
});
