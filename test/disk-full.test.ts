// Issue 8, point 4: the disk under a file database fills up. The database lives on a small tmpfs
// of its own (mounting one needs root; the suite says so and skips elsewhere), and the test fills
// the rest of it with a file, so SQLite meets a real ENOSPC. Calls are refused with an error that
// says the audit log cannot be written because the disk is full, the tool server never sees them,
// what was written before still verifies, and once space is freed the same gateway records again.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectAgentOfEachRevision, type ConnectedClient } from './support/clients.js';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, okMessages, receivedCalls, rejectionOf, textsOf, within } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';

const TMPFS_SIZE = '4m';
const isRoot = process.getuid?.() === 0;

/** Writes zeros into `path` until the file system has no space left; returns the bytes written. */
function fillDisk(path: string): number {
  const chunk = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return written;
        throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!isRoot)('the disk under a file database full (a tmpfs of its own; needs root to mount)', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'agenttrail-small-disk-'));
  const callsFile = join(mkdtempSync(join(tmpdir(), 'agenttrail-calls-')), 'calls.txt');
  const filler = join(mountPoint, 'filler');
  let mounted = false;
  let gateway: RunningGateway;
  let sessionAgent: ConnectedClient;
  let statelessAgent: ConnectedClient;

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mountPoint]);
    mounted = true;
    gateway = await startGateway({ fixture: misbehavingServer({ callsFile }) }, { log: { db: `file:${join(mountPoint, 'audit.db')}` } });
    [sessionAgent, statelessAgent] = await connectAgentOfEachRevision(gateway.url);
  });

  afterAll(async () => {
    await Promise.all([sessionAgent?.close(), statelessAgent?.close()]);
    await gateway?.stop();
    // Lazily: a libSQL connection of this process may hold its file until garbage collection.
    if (mounted) execFileSync('umount', ['--lazy', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const say = (agent: ConnectedClient, message: string) => agent.client.callTool({ name: 'fixture__ok', arguments: { message } });

  test('calls are refused naming the full disk, the operator is told, the log verifies, and recording resumes once space is freed', async () => {
    expect(textsOf((await say(sessionAgent, 'before')) as never)[0]).toMatch(/^ok: before/);
    expect(textsOf((await say(statelessAgent, 'before, stateless')) as never)[0]).toMatch(/^ok: before, stateless/);
    const before = await gateway.entries();

    fillDisk(filler);
    const refusals = await within(
      15_000,
      'calls while the disk is full',
      Promise.all([rejectionOf(say(sessionAgent, 'while full')), rejectionOf(say(statelessAgent, 'while full, stateless'))]),
    );
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ProtocolError);
      expect((refusal as ProtocolError).code).toBe(-32603);
      expect(refusal.message).toMatch(
        /^call refused: the audit log cannot be written \(audit log write failed: database or disk is full \(disk full: free space on the disk that holds the audit database\)\)$/,
      );
    }
    // The tool server never got the refused calls, and the operator reads why on the gateway's stderr, once.
    expect(receivedCalls(callsFile)).toEqual(['ok', 'ok']);
    const told = gateway.output().stderr.split('\n').filter((line) => line.includes('disk full'));
    expect(told).toEqual([
      'agenttrail: audit log write failed: database or disk is full (disk full: free space on the disk that holds the audit database); calls are refused until the audit log can be written',
    ]);
    // What was written before the disk filled is intact: nothing half-written, and it verifies.
    expect((await gateway.entries()).slice(0, before.length)).toEqual(before);
    const key = (await runAgenttrail(['keys', 'show', '--key', join(gateway.folder, 'gateway.key')])).stdout.trim();
    const whileFull = await runAgenttrail(['verify', '--db', gateway.db, '--key', key]);
    expect(whileFull.code, whileFull.stdout + whileFull.stderr).toBe(0);

    // Space comes back: the same gateway process records and forwards again.
    rmSync(filler);
    expect(textsOf((await say(sessionAgent, 'after')) as never)[0]).toMatch(/^ok: after/);
    expect(textsOf((await say(statelessAgent, 'after, stateless')) as never)[0]).toMatch(/^ok: after, stateless/);
    expect(gateway.process.exitCode).toBeNull();
    expect(receivedCalls(callsFile)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(gateway.output().stderr).toContain('agenttrail: the audit log is written again; calls go through');
    const after = await gateway.entries();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((entry) => entry.index)).toEqual(after.map((_, position) => position));
    expect(okMessages(after)).toEqual(['before', 'before, stateless', 'after', 'after, stateless']);
    const verify = await runAgenttrail(['verify', '--db', gateway.db, '--key', key]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);
});
