// One timeline across systems (issue 7, point 6): other systems append their events to the gateway's
// signed log (POST /v1/events with an ingest token, GitHub webhooks checked by their signature,
// agenttrail ingest FILE.jsonl), and a reviewer reads them among an agent's calls. Whatever is
// malformed, unsigned or unauthenticated is refused with a message that names the problem, and the
// refusal is in the log too. A real gateway in front of server-everything, real SDK clients.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { connectDatabase } from '../src/store/database-connection.js';
import { applyMigrations, MIGRATIONS } from '../src/store/migrations.js';
import { connectClient } from './support/clients.js';
import { keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { addPrincipal } from './support/principals.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const WEBHOOK_SECRET = 'github-webhook-secret-5Rt9';
// A GitHub token's shape: the built-in redaction finds it in an event's data.
const LEAKED_TOKEN = `ghp_${'A1b2C3d4E5'.repeat(4)}`;

let gateway: RunningGateway;
let eventsUrl: string;
let ingestToken: string;
let agentToken: string;
/** The headers of a request by the ingest principal. */
let asIngest: Record<string, string>;
/** The session of an agent that called echo once before and once after the CI event. */
let session: string;

beforeAll(async () => {
  gateway = await startGateway(
    { everything: startEverythingStdio() },
    { env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }, ingest: { github: { secret: 'env:GITHUB_WEBHOOK_SECRET' } } },
  );
  eventsUrl = new URL('/v1/events', gateway.url).href;
  ingestToken = await addPrincipal(gateway, 'ci-bot', 'ingest');
  asIngest = { authorization: `Bearer ${ingestToken}` };
  agentToken = await addPrincipal(gateway, 'deploy-agent', 'agent');
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

async function refusalsAfter(index: number): Promise<Entry[]> {
  return (await gateway.entries()).filter((entry) => entry.kind === 'external.refused' && entry.index > index);
}

async function lastIndex(): Promise<number> {
  return (await gateway.entries()).at(-1)?.index ?? -1;
}

describe('POST /v1/events', () => {
  it("puts a CI job's event into the agent's session, between the calls it came between", async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'deploy-client', headers: { authorization: `Bearer ${agentToken}` } });
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'deploy api-server' } });
    const entries = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.agent.id === 'deploy-agent'));
    session = entries.find((entry) => entry.agent.id === 'deploy-agent')!.session;

    const event = { source: 'ci', type: 'deploy.finished', time: '2026-01-31T12:00:00Z', subject: 'api-server', id: 'run-42', session, data: { status: 'success', log: `token ${LEAKED_TOKEN}` } };
    const response = await post(eventsUrl, JSON.stringify(event), asIngest);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, sessions: [session] });
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'check api-server' } });
    await agent.close();

    const recorded = (await gateway.entries()).find((entry) => entry.kind === 'external.event' && entry.session === session)!;
    // Marked with the source it claims and who appended it; the data redacted as any payload.
    expect(recorded.agent).toMatchObject({ transport: 'http', id: 'ci-bot', auth: 'token' });
    expect(recorded.payload).toMatchObject({ source: 'ci', type: 'deploy.finished', time: '2026-01-31T12:00:00Z', subject: 'api-server', id: 'run-42', data: { status: 'success' } });
    expect(JSON.stringify(recorded)).not.toContain(LEAKED_TOKEN);
    expect(JSON.stringify(recorded)).toMatch(/\[redacted:github-token:/);

    const shown = await runAgenttrail(['show', session, '--db', gateway.db]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /tools\/call everything__echo .*\n.*"deploy api-server".*\n.*\n(?:.*\n)*?\d\d:\d\d:\d\d\.\d{3}Z {2}external\.event {2}ci deploy\.finished api-server \(2026-01-31T12:00:00Z, id run-42\)\n {16}data {9}\{"log":"token \[redacted:github-token:[0-9a-f:]+\]","status":"success"\}\n(?:.*\n)*?.*tools\/call everything__echo .*\n.*"check api-server"/,
    );
  });

  it('takes several events at once; events that name no session make one of their source', async () => {
    const events = [
      { source: 'vault', type: 'secret.read', time: '2026-01-31T12:01:00Z', subject: 'kv/deploy' },
      { source: 'vault', type: 'secret.read', time: '2026-01-31T12:02:00+01:00', subject: 'kv/db' },
    ];
    const response = await post(eventsUrl, JSON.stringify(events), asIngest);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, sessions: ['events:vault'] });
    const listed = await runAgenttrail(['sessions', '--json', '--db', gateway.db]);
    const sessions = (JSON.parse(listed.stdout) as { sessions: { session: string; agent: { id?: string }; entries: number; calls: number }[] }).sessions;
    expect(sessions.find((item) => item.session === 'events:vault')).toMatchObject({ agent: { id: 'ci-bot' }, entries: 2, calls: 0 });
    const shown = await runAgenttrail(['show', 'events:vault', '--db', gateway.db]);
    expect(shown.stdout).toMatch(/external\.event {2}vault secret\.read kv\/deploy \(2026-01-31T12:01:00Z\)\n.*external\.event {2}vault secret\.read kv\/db \(2026-01-31T12:02:00\+01:00\)\n/);
  });

  it('refuses what is malformed or not authenticated, says what is wrong, and records the refusal', async () => {
    const before = await lastIndex();
    const good = { source: 'ci', type: 'build.started', time: '2026-01-31T12:00:00Z' };
    const cases: [string, Record<string, string>, number, string][] = [
      [JSON.stringify(good), {}, 401, 'authentication required: send Authorization: Bearer <token>, an ingest token from agenttrail agents add NAME --role ingest'],
      [JSON.stringify(good), { authorization: `Bearer agt_${'x'.repeat(43)}` }, 401, 'the token is not known: send Authorization: Bearer <token>, an ingest token from agenttrail agents add NAME --role ingest'],
      [JSON.stringify(good), { authorization: `Bearer ${agentToken}` }, 403, '"deploy-agent" holds an agent token, which cannot append events; use an ingest token'],
      ['{"source": "ci",', asIngest, 400, 'the body is not JSON'],
      [JSON.stringify({ ...good, type: undefined }), asIngest, 400, 'invalid event: type: Invalid input: expected string, received undefined; an event is {source, type, time, subject?, data?, id?, session?}'],
      [JSON.stringify({ ...good, time: 'yesterday' }), asIngest, 400, 'invalid event: time: expected an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z'],
      [JSON.stringify({ ...good, source: 'CI Server' }), asIngest, 400, 'invalid event: source: a source is 1 to 64 lower-case letters'],
      [JSON.stringify({ ...good, severity: 'high' }), asIngest, 400, 'invalid event: Unrecognized key: "severity"'],
      [JSON.stringify([good, { ...good, time: 3 }]), asIngest, 400, "event 1 is invalid (none of the request's events was recorded): time:"],
      ['[]', asIngest, 400, 'send one event, or an array of 1 to 1000 events (this one holds 0)'],
    ];
    for (const [body, headers, status, message] of cases) {
      const response = await post(eventsUrl, body, headers);
      expect(response.status, body).toBe(status);
      const { error } = (await response.json()) as { error: string };
      expect(error, body).toContain(message);
      if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="agenttrail"/);
    }
    const refusals = await refusalsAfter(before);
    expect(refusals.map((entry) => (entry.payload as { status: number }).status)).toEqual(cases.map(([, , status]) => status));
    expect(refusals.every((entry) => entry.session === 'ingest')).toBe(true);
    expect(refusals[2]!.payload).toMatchObject({ route: 'POST /v1/events', status: 403, principal: 'deploy-agent', role: 'agent', reason: expect.stringContaining('cannot append events') });
    expect(refusals[2]!.agent).toMatchObject({ id: 'deploy-agent', remote: '127.0.0.1' });
    // The valid first event of the refused batch is not in the log.
    expect((await gateway.entries()).filter((entry) => entry.kind === 'external.event' && (entry.payload as { type: string }).type === 'build.started')).toEqual([]);
  });
});

describe('POST /v1/events/github', () => {
  const delivery = { action: 'opened', number: 7, repository: { full_name: 'acme/api-server' }, sender: { login: 'octocat' } };
  const sign = (body: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const githubHeaders = (body: string) => ({ 'x-github-event': 'pull_request', 'x-github-delivery': 'delivery-1', 'user-agent': 'GitHub-Hookshot/abc123', 'x-hub-signature-256': sign(body) });
  const githubUrl = () => `${eventsUrl}/github`;

  it('records a delivery whose X-Hub-Signature-256 is right', async () => {
    const body = JSON.stringify(delivery);
    const response = await post(githubUrl(), body, githubHeaders(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, sessions: ['events:github'] });
    const recorded = (await gateway.entries()).find((entry) => entry.kind === 'external.event' && entry.session === 'events:github')!;
    expect(recorded.payload).toMatchObject({ source: 'github', type: 'pull_request.opened', subject: 'acme/api-server', id: 'delivery-1', data: delivery });
    expect(recorded.agent).toMatchObject({ transport: 'http', client: { name: 'github-webhook', version: 'abc123' } });
  });

  it('refuses unsigned, wrongly signed and changed deliveries, and records each refusal', async () => {
    const before = await lastIndex();
    const body = JSON.stringify(delivery);
    const { 'x-hub-signature-256': _signature, ...unsigned } = githubHeaders(body);
    const cases: [Record<string, string>, string, number, string][] = [
      [unsigned, body, 401, 'unsigned: the request has no X-Hub-Signature-256 header'],
      [{ ...unsigned, 'x-hub-signature-256': sign(body, 'another secret') }, body, 401, 'X-Hub-Signature-256 does not match the body'],
      [githubHeaders(body), body.replace('opened', 'closed'), 401, 'X-Hub-Signature-256 does not match the body'],
      [{ ...unsigned, 'x-hub-signature-256': 'sha1=abc' }, body, 401, 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits'],
      [{ ...githubHeaders('payload=x'), 'content-type': 'application/x-www-form-urlencoded' }, 'payload=x', 400, "the body is not JSON"],
    ];
    for (const [headers, sent, status, message] of cases) {
      const response = await post(githubUrl(), sent, headers);
      expect(response.status, message).toBe(status);
      expect(((await response.json()) as { error: string }).error).toContain(message);
    }
    const refusals = await refusalsAfter(before);
    expect(refusals.map((entry) => entry.payload)).toEqual(
      cases.map(([, , status, message]) => expect.objectContaining({ route: 'POST /v1/events/github', status, reason: expect.stringContaining(message) })),
    );
    expect((await gateway.entries()).filter((entry) => entry.session === 'events:github')).toHaveLength(1);
  });
});

describe('agenttrail ingest', () => {
  const ingest = (file: string, ...args: string[]) => runAgenttrail(['ingest', file, '--db', gateway.db, '--key', keyFileBeside(gateway.db), ...args]);

  it('appends the events of a JSON Lines file, into the sessions they name', async () => {
    const file = join(gateway.folder, 'ci-events.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ type: 'job.started', time: '2026-01-31T13:00:00Z', subject: 'nightly' }),
        '',
        JSON.stringify({ source: 'jenkins', type: 'job.finished', time: '2026-01-31T13:05:00Z', subject: 'nightly', session, data: { result: 'SUCCESS' } }),
      ].join('\n'),
    );
    const done = await ingest(file, '--source', 'jenkins', '--json');
    expect(done.code, done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { accepted: number; entries: { first: number; last: number }; sessions: string[] };
    expect(report).toMatchObject({ log: 'agenttrail.local/gateway', accepted: 2, sessions: ['events:jenkins', session] });
    const entries = await gateway.entries();
    const appended = entries.filter((entry) => entry.index >= report.entries.first && entry.index <= report.entries.last);
    expect(appended.map((entry) => [entry.kind, entry.session, (entry.payload as { type: string }).type])).toEqual([
      ['external.event', 'events:jenkins', 'job.started'],
      ['external.event', session, 'job.finished'],
    ]);
    expect(appended[0]!.agent).toMatchObject({ transport: 'cli', user: expect.any(String) });
    const shown = await runAgenttrail(['show', session, '--db', gateway.db]);
    expect(shown.stdout).toMatch(/external\.event {2}jenkins job\.finished nightly \(2026-01-31T13:05:00Z\)\n {16}data {9}\{"result":"SUCCESS"\}\n/);
  });

  it('records none of a file with an invalid line, lists each bad line, and records the refusal (exit 2)', async () => {
    const before = await lastIndex();
    const file = join(gateway.folder, 'bad-events.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ source: 'jenkins', type: 'job.started', time: '2026-01-31T14:00:00Z' }),
        '{"source": "jenkins"',
        JSON.stringify({ source: 'gitlab', type: 'job.started', time: '2026-01-31T14:00:00Z' }),
        JSON.stringify({ source: 'jenkins', time: '2026-01-31T14:00:00Z' }),
      ].join('\n'),
    );
    const refused = await ingest(file, '--source', 'jenkins');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    const lines = refused.stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${escape(file)}:2: not JSON \\(`));
    expect(lines[1]).toBe(`${file}:3: the event's source "gitlab" is not --source jenkins`);
    expect(lines[2]).toBe(`${file}:4: type: Invalid input: expected string, received undefined; an event is {source, type, time, subject?, data?, id?, session?}`);
    expect(lines[3]).toMatch(new RegExp(`^agenttrail: ${escape(file)}: 3 of 4 events are invalid \\(listed above\\), so none was recorded; the refusal is entry (\\d+) of log "agenttrail\\.local/gateway"$`));
    const after = (await gateway.entries()).filter((entry) => entry.index > before);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ kind: 'external.refused', session: 'ingest', payload: { file, lines: [{ line: 2 }, { line: 3 }, { line: 4 }] } });
  });

  it('--help tells the event format, the options and the HTTP routes', async () => {
    const help = await runAgenttrail(['ingest', '--help']);
    expect(help.code).toBe(0);
    for (const text of ['--source', '--config', '--db', '--key', '--json', 'POST /v1/events', 'X-Hub-Signature-256', '--role ingest', 'events:SOURCE']) expect(help.stdout).toContain(text);
  });

  it('the log with everything ingested still verifies', async () => {
    const verify = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('the ingest role', () => {
  it('comes to a database of an earlier version with its principals kept', async () => {
    const client = await connectDatabase({ url: `file:${join(mkdtempSync(join(tmpdir(), 'agenttrail-ingest-role-')), 'audit.db')}` });
    try {
      // The database as version 7 left it, with a principal.
      await client.execute('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const migration of MIGRATIONS.filter((m) => m.version <= 7)) {
        await client.batch([{ sql: 'INSERT INTO schema_migrations VALUES (?, ?, ?)', args: [migration.version, migration.name, '2026-01-01T00:00:00.000Z'] }, ...migration.statements], 'write');
      }
      const hash = new Uint8Array(32).fill(7);
      const insert = (name: string, role: string) =>
        client.execute({ sql: "INSERT INTO principals VALUES (?, ?, ?, 'active', 't', 't', 'log', 0)", args: [name, role, name === 'old-agent' ? hash : new Uint8Array(32).fill(name.length)] });
      await insert('old-agent', 'agent');
      await expect(insert('too-early', 'ingest')).rejects.toThrow(/CHECK constraint failed/);

      await applyMigrations(client);
      const rows = await client.execute('SELECT name, role, token_hash FROM principals');
      expect(rows.rows.map((row) => [row['name'], row['role'], new Uint8Array(row['token_hash'] as ArrayBuffer)])).toEqual([['old-agent', 'agent', hash]]);
      await insert('ci', 'ingest');
      await expect(insert('root', 'root')).rejects.toThrow(/CHECK constraint failed/);
      // The token hash index came back with the table.
      await expect(client.execute({ sql: "INSERT INTO principals VALUES ('twin', 'agent', ?, 'active', 't', 't', 'log', 0)", args: [hash] })).rejects.toThrow(/UNIQUE constraint failed/);
    } finally {
      client.close();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
