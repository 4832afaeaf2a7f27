// Issue 8, point 1: the gateway and its ledger on a libSQL server (a real sqld on loopback) through
// http:// URLs, and on an embedded replica of it (a file: database with log.syncUrl). What a user
// sees: calls land as entries on the server, `verify --db http://...` passes and catches a row
// changed over HTTP, `agents add` works against the server while the gateway writes the same log,
// a replica gets the entries, and a server that wants a token says so.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { openStore } from '../src/store/open-store.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { readEntries, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { misbehavingServer, rejectionOf, textsOf } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';
import { startSqld } from './support/sqld.js';
import type { RunningSqld } from './support/sqld.js';
import { freePort } from './support/upstream-servers.js';

const LOG = 'remote.test/gateway';
const REPLICA_LOG = 'replica.test/gateway';

let sqld: RunningSqld;
/** A gateway straight on the server; its log holds the principals (agents) of the database. */
let gateway: RunningGateway;
const folders: string[] = [];

beforeAll(async () => {
  sqld = await startSqld();
  gateway = await startGateway({ fixture: misbehavingServer() }, { log: { db: sqld.url, origin: LOG }, auth: { unauthenticated: 'refuse' } });
});

afterAll(async () => {
  await gateway?.stop();
  await sqld?.remove();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-remote-'));
  folders.push(folder);
  return folder;
}

/** `agenttrail agents ...` with the config of the gateway on the server. */
function agents(...args: string[]): Promise<CliResult> {
  return runAgenttrail(['agents', ...args, '--config', join(gateway.folder, 'agenttrail.yaml')]);
}

async function addAgent(name: string): Promise<string> {
  const result = await agents('add', name);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

async function verifierKeyOf(signer: RunningGateway): Promise<string> {
  const result = await runAgenttrail(['keys', 'show', '--key', join(signer.folder, 'gateway.key')]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

function connectAgent(to: RunningGateway, token: string, revision: '2025-11-25' | '2026-07-28'): Promise<ConnectedClient> {
  return connectClient({ transport: 'http', url: to.url, revision, headers: { authorization: `Bearer ${token}` } });
}

async function say(agent: ConnectedClient, message: string): Promise<string | undefined> {
  return textsOf((await agent.client.callTool({ name: 'fixture__ok', arguments: { message } })) as never)[0];
}

/** Retries `connect` while the token is not yet in the replica (sync every 0.2 s). */
async function waitForAcceptance<T>(connect: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }
}

const messagesOf = (entries: Entry[]): string[] =>
  entries
    .filter((entry) => entry.kind === 'tool.call')
    .map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message);

describe('agenttrail serve with log.db on a libSQL server (http://)', () => {
  let agentsOnline: ConnectedClient[] = [];

  afterAll(async () => {
    await Promise.all(agentsOnline.map((agent) => agent.close()));
  });

  it('records concurrent calls of both revisions on the server, and verify --db http:// passes with the gateway key', async () => {
    const token = await addAgent('bot');
    agentsOnline = await Promise.all([connectAgent(gateway, token, '2025-11-25'), connectAgent(gateway, token, '2026-07-28')]);
    const sent = agentsOnline.flatMap((agent, which) => Array.from({ length: 10 }, (_, n) => ({ agent, message: `call ${which}-${n}` })));
    const answers = await Promise.all(sent.map(({ agent, message }) => say(agent, message)));
    expect(answers.map((text) => text?.replace(/ \(pid \d+\)$/, ''))).toEqual(sent.map(({ message }) => `ok: ${message}`));

    const entries = await waitForEntries(gateway.entries, (all) => all.filter((entry) => entry.kind === 'tool.result').length === sent.length);
    expect(entries[0]).toMatchObject({ kind: 'agent.added', payload: { name: 'bot' } });
    expect(messagesOf(entries).sort()).toEqual(sent.map(({ message }) => message).sort());
    expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, position) => position));

    const verify = await runAgenttrail(['verify', '--db', sqld.url, '--key', await verifierKeyOf(gateway)]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`log ${LOG}: OK`);
    expect(verify.stdout).toMatch(new RegExp(`entries +${entries.length} `));
  });

  it('takes agents added on the server while it writes the same log, and goes on recording calls', async () => {
    const [agent] = agentsOnline;
    expect(agent).toBeDefined();
    // The gateway's writer believes the log ends where its own last entry is; the command appends
    // after it, so the gateway's next batch meets the command's entry at its index.
    const second = await addAgent('second-bot');
    const answers = await Promise.all(Array.from({ length: 5 }, (_, n) => say(agent!, `after add ${n}`)));
    expect(answers.every((text) => text?.startsWith('ok: after add'))).toBe(true);

    const newcomer = await connectAgent(gateway, second, '2025-11-25');
    agentsOnline.push(newcomer);
    expect(await say(newcomer, 'newcomer')).toMatch(/^ok: newcomer/);
    const list = await agents('list');
    expect(list.stdout).toMatch(/^second-bot +agent +active /m);

    const entries = await gateway.entries();
    expect(entries.filter((entry) => entry.kind === 'agent.added').map((entry) => (entry.payload as { name: string }).name)).toEqual(['bot', 'second-bot']);
    expect(messagesOf(entries)).toEqual(expect.arrayContaining(['after add 0', 'after add 4', 'newcomer']));
    expect((await runAgenttrail(['verify', '--db', sqld.url])).code).toBe(0);
  });

  it('verify exits 1 naming the entry when a row is changed over HTTP, and 0 once it is put back', async () => {
    const entries = await gateway.entries();
    const target = entries.find((entry) => entry.kind === 'tool.call');
    expect(target).toBeDefined();
    const server = createClient({ url: sqld.url });
    try {
      const read = await server.execute({ sql: 'SELECT body, tool FROM entries WHERE log = ? AND idx = ?', args: [LOG, target!.index] });
      const original = new Uint8Array(read.rows[0]!['body'] as ArrayBuffer);
      const changed = new TextEncoder().encode(new TextDecoder().decode(original).replace('"call ', '"cell '));
      expect(changed).not.toEqual(original);

      await server.execute({ sql: 'UPDATE entries SET body = ? WHERE log = ? AND idx = ?', args: [changed, LOG, target!.index] });
      const bodyChanged = await runAgenttrail(['verify', '--db', sqld.url]);
      expect(bodyChanged.code, bodyChanged.stdout).toBe(1);
      expect(bodyChanged.stdout).toMatch(new RegExp(`^FAILED: log ${LOG}: entry ${target!.index}: its body is not the one checkpoint \\d+ signed`, 'm'));

      await server.execute({ sql: 'UPDATE entries SET body = ?, tool = ? WHERE log = ? AND idx = ?', args: [original, 'ko', LOG, target!.index] });
      const columnChanged = await runAgenttrail(['verify', '--db', sqld.url, '--json']);
      expect(columnChanged.code).toBe(1);
      expect(JSON.parse(columnChanged.stdout)).toMatchObject({
        ok: false,
        failure: { log: LOG, reason: expect.stringContaining('column tool is "ko" but the signed entry says "ok"') },
      });

      await server.execute({ sql: 'UPDATE entries SET tool = ? WHERE log = ? AND idx = ?', args: ['ok', LOG, target!.index] });
    } finally {
      server.close();
    }
    expect((await runAgenttrail(['verify', '--db', sqld.url])).code).toBe(0);
  });
});

describe('agenttrail serve on an embedded replica (log.db file: with log.syncUrl)', () => {
  let replicaGateway: RunningGateway;
  let folder: string;

  beforeAll(async () => {
    folder = temporaryFolder();
    replicaGateway = await startGateway(
      { fixture: misbehavingServer() },
      {
        log: { db: `file:${join(folder, 'gateway-replica.db')}`, syncUrl: sqld.url, syncIntervalSeconds: 0.2, origin: REPLICA_LOG },
        auth: { unauthenticated: 'refuse' },
      },
    );
  });

  afterAll(async () => {
    await replicaGateway?.stop();
  });

  it('writes the log on the server, lets in agents added there, and another replica gets every entry', async () => {
    // The command writes on the server; this gateway finds the token in its copy after a sync.
    const token = await addAgent('replica-bot');
    const agent = await waitForAcceptance(() => connectAgent(replicaGateway, token, '2026-07-28'));
    try {
      await Promise.all(Array.from({ length: 5 }, (_, n) => say(agent, `replicated ${n}`)));
    } finally {
      await agent.close();
    }
    const onServer = await waitForEntries(
      () => readEntries(sqld.url, REPLICA_LOG),
      (entries) => entries.filter((entry) => entry.kind === 'tool.result').length === 5,
    );
    expect(messagesOf(onServer).sort()).toEqual(['replicated 0', 'replicated 1', 'replicated 2', 'replicated 3', 'replicated 4']);

    const reviewerCopy = `file:${join(folder, 'reviewer-replica.db')}`;
    const store = await openStore({ url: reviewerCopy, syncUrl: sqld.url, readOnly: true });
    try {
      expect(await store.entries(REPLICA_LOG)).toEqual(onServer);
      expect(await store.logs()).toEqual(expect.arrayContaining([LOG, REPLICA_LOG]));
    } finally {
      await store.close();
    }
    // The copy is a plain database file that verifies offline, and the server's log verifies too.
    expect((await runAgenttrail(['verify', '--db', reviewerCopy, '--log', REPLICA_LOG, '--key', await verifierKeyOf(replicaGateway)])).code).toBe(0);
    expect((await runAgenttrail(['verify', '--db', sqld.url, '--log', REPLICA_LOG])).code).toBe(0);
  });
});

describe('a libSQL server that wants a token, or is not there', () => {
  it('serve and verify fail with a reason that names AGENTTRAIL_DB_AUTH_TOKEN, and work once it is set', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const guarded = await startSqld({ env: { SQLD_AUTH_JWT_KEY: publicKey.export({ format: 'jwk' }).x! } });
    try {
      const token = await new SignJWT({ a: 'rw' }).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' }).setIssuedAt().sign(privateKey);
      await expect(startGateway({ fixture: misbehavingServer() }, { log: { db: guarded.url } })).rejects.toThrow(
        /exited with 2:[\s\S]*401.*set AGENTTRAIL_DB_AUTH_TOKEN/,
      );

      const authorized = await startGateway({ fixture: misbehavingServer() }, { log: { db: guarded.url }, env: { AGENTTRAIL_DB_AUTH_TOKEN: token } });
      try {
        const agent = await connectClient({ transport: 'http', url: authorized.url, revision: '2025-11-25' });
        expect(await say(agent, 'with a token')).toMatch(/^ok: with a token/);
        await agent.close();
      } finally {
        await authorized.stop();
      }
      const refused = await runAgenttrail(['verify', '--db', guarded.url]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^agenttrail: cannot open audit database http:\/\/127\.0\.0\.1:\d+: .*401.*set AGENTTRAIL_DB_AUTH_TOKEN/);
      const verified = await runAgenttrail(['verify', '--db', guarded.url], { env: { AGENTTRAIL_DB_AUTH_TOKEN: token } });
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    } finally {
      await guarded.remove();
    }
  });

  it('a server that does not answer: exit 2 with what the connection said', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runAgenttrail(['verify', '--db', url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot reach the database server: connect ECONNREFUSED 127\.0\.0\.1:\d+/);
  });
});

describe('log.syncUrl in the config', () => {
  it('is refused beside a db that is not a file', async () => {
    const error = await rejectionOf(startGateway({ fixture: misbehavingServer() }, { log: { db: sqld.url, syncUrl: sqld.url } }));
    expect(error.message).toMatch(/log\.syncUrl: an embedded replica needs a file: db/);
  });
});
