// Identity life cycle and roles (issue 5, points 2 and 3): `agenttrail agents add | list | suspend |
// resume | revoke | rotate`, run as the built CLI against real libSQL files, and the principal
// directory that the gateway asks on every request, opened on the same file as a gateway would.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashAccessToken } from '../src/auth/access-token.js';
import { createPrincipalDirectory } from '../src/auth/principal-directory.js';
import type { PrincipalDirectory } from '../src/auth/principal-directory.js';
import { isPermitted } from '../src/auth/role-permissions.js';
import { applyPrincipalChange, findPrincipalByTokenHash, readPrincipal } from '../src/store/principal-queries.js';
import { DEFAULT_ORIGIN, readEntries } from './support/gateway-process.js';
import { refusalOf, runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const TOKEN = /^agt_[A-Za-z0-9_-]{43}$/;

let folder: string;
let db: string;
let client: Client;
let directory: PrincipalDirectory;
/** Every token a command of the current test printed; none may be stored anywhere. */
const tokens: string[] = [];

const folders: string[] = [];
afterAll(async () => {
  for (const path of folders) await rm(path, { recursive: true, force: true });
});

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-agents-'));
  folders.push(folder);
  db = `file:${join(folder, 'audit.db')}`;
  // The gateway's view: its own connection, open across every change the CLI makes.
  client = createClient({ url: db });
  directory = createPrincipalDirectory((hash) => findPrincipalByTokenHash(client, hash));
});

afterEach(async () => {
  client.close();
  const stored = await Promise.all(['audit.db', 'audit.db-wal', 'audit.db-shm'].map((file) => storedBytes(join(folder, file))));
  for (const token of tokens.splice(0)) {
    for (const bytes of stored) {
      expect(bytes.includes(token), 'a token is in the database file').toBe(false);
      expect(bytes.includes(token.slice('agt_'.length)), 'a token\'s random part is in the database file').toBe(false);
    }
  }
});

async function storedBytes(path: string): Promise<string> {
  return existsSync(path) ? (await readFile(path)).toString('latin1') : '';
}

async function agents(...args: string[]): Promise<CliResult> {
  return runAgenttrail(['agents', ...args, '--db', db, '--key', join(folder, 'gateway.key')], { cwd: folder });
}

/** Runs a command that must succeed and print a token (add, rotate), and returns the token. */
async function issued(...args: string[]): Promise<string> {
  const result = await agents(...args);
  expect(result.stderr).toMatch(/shown only this once/);
  expect(result.code, result.stderr).toBe(0);
  const token = result.stdout.trim();
  expect(token).toMatch(TOKEN);
  tokens.push(token);
  return token;
}

async function succeeds(...args: string[]): Promise<CliResult> {
  const result = await agents(...args);
  expect(result.stderr).not.toMatch(/error|cannot/i);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** A command refused with exit code 2 and a one-line reason on stderr. */
async function refused(...args: string[]): Promise<string> {
  return refusalOf(await agents(...args));
}

describe('agenttrail agents', () => {
  it('adds principals whose printed tokens authenticate with their role, and lists them without tokens or hashes', async () => {
    const bot = await issued('add', 'bot');
    const reviewerRun = await succeeds('add', 'alice@example.com', '--role', 'reviewer', '--json');
    const reviewer = JSON.parse(reviewerRun.stdout) as { principal: unknown; token: string; note: string };
    tokens.push(reviewer.token);
    expect(reviewer.principal).toEqual({ name: 'alice@example.com', role: 'reviewer', status: 'active' });
    expect(reviewer.note).toMatch(/shown only this once/);

    expect(await directory.authenticate(bot)).toEqual({ outcome: 'accepted', principal: { name: 'bot', role: 'agent', status: 'active' } });
    expect(await directory.authenticate(reviewer.token)).toEqual({
      outcome: 'accepted',
      principal: { name: 'alice@example.com', role: 'reviewer', status: 'active' },
    });

    const list = await succeeds('list');
    expect(list.stdout).toMatch(/^bot +agent +active /m);
    expect(list.stdout).toMatch(/^alice@example\.com +reviewer +active /m);
    const listJson = await succeeds('list', '--json');
    expect((JSON.parse(listJson.stdout) as { principals: { name: string }[] }).principals.map((p) => p.name)).toEqual(['alice@example.com', 'bot']);
    for (const output of [list.stdout + list.stderr, listJson.stdout]) {
      for (const token of [bot, reviewer.token]) {
        const hash = hashAccessToken(token);
        expect(output).not.toContain(token.slice(4));
        expect(output).not.toContain(Buffer.from(hash).toString('hex'));
        expect(output).not.toContain(Buffer.from(hash).toString('base64').replace(/=+$/, ''));
      }
    }
  });

  it('gives each role only its own part: an agent token can never approve or read the log', async () => {
    const outcome = await directory.authenticate(await issued('add', 'bot'));
    expect(outcome.outcome).toBe('accepted');
    const role = outcome.outcome === 'accepted' ? outcome.principal.role : 'agent';
    expect(isPermitted(role, 'call-tools')).toBe(true);
    expect(isPermitted(role, 'read-log')).toBe(false);
    expect(isPermitted(role, 'decide-approvals')).toBe(false);
    expect(isPermitted(role, 'administer')).toBe(false);
    expect(isPermitted('reviewer', 'read-log')).toBe(true);
    expect(isPermitted('reviewer', 'decide-approvals')).toBe(false);
    expect(isPermitted('approver', 'decide-approvals')).toBe(true);
    expect(isPermitted('admin', 'decide-approvals')).toBe(false);
    expect(isPermitted('admin', 'administer')).toBe(true);
  });

  it('refuses a suspended token on the next request, and accepts it again once resumed', async () => {
    const token = await issued('add', 'bot');
    expect((await directory.authenticate(token)).outcome).toBe('accepted');
    await succeeds('suspend', 'bot');
    expect(await directory.authenticate(token)).toEqual({ outcome: 'suspended', principal: { name: 'bot', role: 'agent', status: 'suspended' } });
    expect(await refused('suspend', 'bot')).toMatch(/"bot" is already suspended/);
    await succeeds('resume', 'bot');
    expect((await directory.authenticate(token)).outcome).toBe('accepted');
    expect(await refused('resume', 'bot')).toMatch(/"bot" is active, not suspended/);
  });

  it('rotates: the old token is refused at once, the new one works, and a suspended principal stays suspended', async () => {
    const first = await issued('add', 'bot', '--role', 'approver');
    const second = await issued('rotate', 'bot');
    expect(second).not.toBe(first);
    expect(await directory.authenticate(first)).toEqual({ outcome: 'unknown' });
    expect(await directory.authenticate(second)).toEqual({ outcome: 'accepted', principal: { name: 'bot', role: 'approver', status: 'active' } });

    await succeeds('suspend', 'bot');
    const third = await issued('rotate', 'bot');
    expect((await directory.authenticate(third)).outcome).toBe('suspended');
    expect(await directory.authenticate(second)).toEqual({ outcome: 'unknown' });
  });

  it('revokes for good: refused forever, and resume, rotate and re-adding the name are refused', async () => {
    const token = await issued('add', 'bot');
    await succeeds('revoke', 'bot');
    expect(await directory.authenticate(token)).toEqual({ outcome: 'revoked', principal: { name: 'bot', role: 'agent', status: 'revoked' } });
    expect(await refused('resume', 'bot')).toBe('agenttrail: "bot" is revoked, which is final; it cannot be resumed');
    expect(await refused('rotate', 'bot')).toBe('agenttrail: "bot" is revoked, which is final; it cannot be rotated');
    expect(await refused('revoke', 'bot')).toMatch(/"bot" is revoked, which is final/);
    expect(await refused('add', 'bot')).toBe('agenttrail: "bot" was revoked and its name cannot be used again; add the principal under a new name');
    expect(await directory.authenticate(token)).toEqual({ outcome: 'revoked', principal: { name: 'bot', role: 'agent', status: 'revoked' } });
    expect((await succeeds('list')).stdout).toMatch(/^bot +agent +revoked /m);
  });

  it('records each change as a ledger entry without the token, and the log verifies afterwards', async () => {
    const first = await issued('add', 'bot');
    await succeeds('suspend', 'bot');
    await succeeds('resume', 'bot');
    const second = await issued('rotate', 'bot');
    await succeeds('revoke', 'bot');

    const entries = await readEntries(db);
    expect(entries.map((entry) => [entry.kind, entry.payload])).toEqual([
      ['agent.added', { name: 'bot', role: 'agent', status: 'active' }],
      ['agent.suspended', { name: 'bot', role: 'agent', status: 'suspended' }],
      ['agent.resumed', { name: 'bot', role: 'agent', status: 'active' }],
      ['agent.rotated', { name: 'bot', role: 'agent', status: 'active' }],
      ['agent.revoked', { name: 'bot', role: 'agent', status: 'revoked' }],
    ]);
    for (const entry of entries) expect(entry.agent).toEqual({ transport: 'cli', user: userInfo().username });
    const bodies = JSON.stringify(entries);
    for (const token of [first, second]) {
      expect(bodies).not.toContain(token.slice(4));
      expect(bodies).not.toContain(Buffer.from(hashAccessToken(token)).toString('hex'));
    }
    // The row names the entry that gave it its state.
    expect(await readPrincipal(client, 'bot')).toMatchObject({ status: 'revoked', log: DEFAULT_ORIGIN, entry: 4 });

    const verify = await runAgenttrail(['verify', '--db', db], { cwd: folder });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  it('refuses bad input with exit code 2 and a reason naming the problem, and records nothing', async () => {
    await issued('add', 'bot');
    expect(await refused('add', 'x', '--role', 'root')).toBe('agenttrail: --role: unknown role "root" (roles: agent, reviewer, approver, admin, ingest)');
    expect(await refused('add', 'Bot')).toMatch(/^agenttrail: invalid name "Bot": a name is 1 to 64 lower-case letters/);
    expect(await refused('add', '_bot')).toMatch(/^agenttrail: invalid name "_bot"/);
    expect(await refused('add', 'bot one')).toMatch(/^agenttrail: invalid name "bot one"/);
    expect(await refused('add', 'a'.repeat(65))).toMatch(/^agenttrail: invalid name "a{65}"/);
    expect(await refused('add', 'bot')).toBe('agenttrail: "bot" already exists (agent, active); use rotate for a new token');
    expect(await refused('suspend', 'nobody')).toBe('agenttrail: there is no principal named "nobody" (see agenttrail agents list)');
    expect(await refused('rotate')).toBe('agenttrail: agents rotate needs a NAME');
    expect(await refused('suspend', 'bot', '--role', 'admin')).toBe('agenttrail: --role applies to agents add only');
    expect(await refused('delete', 'bot')).toMatch(/^agenttrail: unknown agents action "delete" \(actions: add, list, suspend, resume, revoke, rotate\)/);
    expect(await readEntries(db)).toHaveLength(1);
  });

  it('changes nothing when the log cannot be written', async () => {
    // Another connection holds the write lock past the CLI's busy timeout, so the entry cannot be
    // appended; the principal must not appear either.
    const locker = createClient({ url: db });
    await succeeds('list');
    const lock = await locker.transaction('write');
    try {
      const add = await agents('add', 'bot');
      expect(add.code).toBe(2);
      expect(add.stdout).toBe('');
      expect(add.stderr).toMatch(/^agenttrail: audit log write failed: .*locked/m);
    } finally {
      await lock.rollback();
      locker.close();
    }
    expect((await succeeds('list', '--json')).stdout).toBe('{"principals":[]}\n');
    expect(await readEntries(db)).toHaveLength(0);
  }, 20_000);

  it('refuses to record a change in a log beside the gateway\'s', async () => {
    await issued('add', 'bot');
    const config = join(folder, 'other.yaml');
    await writeFile(config, 'log:\n  origin: example.com/other\n');
    expect(await refused('suspend', 'bot', '--config', config)).toBe(
      `agenttrail: this principal is recorded in log "${DEFAULT_ORIGIN}", not "example.com/other"; pass the gateway's --config`,
    );
    expect(await refused('add', 'carol', '--config', config)).toBe(
      `agenttrail: the database holds no log "example.com/other" (it holds "${DEFAULT_ORIGIN}"); pass the gateway's --config`,
    );
  });

  it('lets only a later entry change a row, so a replayed or overtaken change cannot undo a newer one', async () => {
    const token = await issued('add', 'bot');
    await succeeds('suspend', 'bot');
    const change = { name: 'bot', status: 'active', time: new Date().toISOString(), log: DEFAULT_ORIGIN } as const;
    expect(await applyPrincipalChange(client, { ...change, entry: 0 })).toBe(false);
    expect(await applyPrincipalChange(client, { ...change, entry: 1 })).toBe(false);
    expect(await applyPrincipalChange(client, { ...change, log: 'example.com/other', entry: 9 })).toBe(false);
    expect((await directory.authenticate(token)).outcome).toBe('suspended');
  });

  it('tells tokens of another shape apart from unknown ones', async () => {
    await issued('add', 'bot');
    expect(await directory.authenticate('')).toEqual({ outcome: 'malformed' });
    expect(await directory.authenticate('eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3QifQ.')).toEqual({ outcome: 'malformed' });
    expect(await directory.authenticate(`agt_${'A'.repeat(42)}`)).toEqual({ outcome: 'malformed' });
    expect(await directory.authenticate(`agt_${'A'.repeat(43)}`)).toEqual({ outcome: 'unknown' });
  });

  it('--help describes every action, role and option', async () => {
    const help = await runAgenttrail(['agents', '--help']);
    expect(help.code).toBe(0);
    for (const word of ['add NAME', 'list', 'suspend NAME', 'resume NAME', 'revoke NAME', 'rotate NAME', 'reviewer', 'approver', 'admin', '--role', '--db', '--config', '--key', '--json']) {
      expect(help.stdout).toContain(word);
    }
  });
});
