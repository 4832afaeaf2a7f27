// Review after the fact (issue 7, point 1): a reviewer lists the sessions a gateway recorded, filters
// them, reads one session's timeline, and searches the recorded payloads, all from the command line.
// The sessions are recorded by a real gateway in front of server-everything (test/support/recorded-sessions.ts).
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { z } from 'zod';
import { durationText } from '../src/review/duration-text.js';
import { CREDENTIAL_SECRET, recordSessions } from './support/recorded-sessions.js';
import type { RecordedSessions } from './support/recorded-sessions.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

let recorded: RecordedSessions;
const agenttrail = (...args: string[]): Promise<CliResult> => runAgenttrail([...args, '--db', recorded.db]);

beforeAll(async () => {
  recorded = await recordSessions();
}, 60_000);

afterAll(async () => {
  await recorded?.gateway.stop();
});

const SessionsDocumentSchema = z.object({
  log: z.string(),
  sessions: z.array(
    z.object({
      session: z.string(),
      agent: z.looseObject({ id: z.string().optional(), client: z.object({ name: z.string(), version: z.string() }).optional() }),
      started: z.string(),
      ended: z.string(),
      durationMs: z.number(),
      entries: z.number(),
      calls: z.number(),
      denials: z.number(),
      approvals: z.number(),
      errors: z.number(),
    }),
  ),
});

async function sessionsJson(...filters: string[]) {
  const listed = await agenttrail('sessions', '--json', ...filters);
  expect(listed.code, listed.stderr).toBe(0);
  return SessionsDocumentSchema.parse(JSON.parse(listed.stdout)).sessions;
}

describe('agenttrail sessions', () => {
  it('lists each session with its agent, start, duration and what its tool calls came to', async () => {
    const sessions = await sessionsJson();
    const research = sessions.find((session) => session.session === recorded.research)!;
    const deploy = sessions.find((session) => session.session === recorded.deploy)!;
    // echo, get-sum, get-sum with a string for a number (the tool's error), an unknown tool (the gateway's error)
    expect(research).toMatchObject({ agent: { id: 'research-agent', auth: 'token' }, calls: 4, denials: 0, approvals: 0, errors: 2 });
    // echo through the gateway, then a call a policy denied and one a human approved
    expect(deploy).toMatchObject({ agent: { client: { name: 'deploy-bot' }, protocol: '2026-07-28' }, calls: 3, denials: 1, approvals: 1, errors: 0 });
    expect(research.durationMs).toBe(Date.parse(research.ended) - Date.parse(research.started));
    expect(research.durationMs).toBeGreaterThan(0);
    // Oldest first.
    expect(sessions.map((session) => session.session).indexOf(recorded.research)).toBeLessThan(sessions.map((session) => session.session).indexOf(recorded.deploy));

    const table = await agenttrail('sessions');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^SESSION +AGENT +STARTED \(UTC\) +DURATION +CALLS +DENIED +APPROVALS +ERRORS$/);
    expect(lines.find((line) => line.startsWith(recorded.research))).toMatch(
      new RegExp(`research-agent +${escape(research.started)} +${escape(durationText(research.durationMs))} +4 +0 +0 +2$`),
    );
    expect(lines.find((line) => line.startsWith(recorded.deploy))).toMatch(new RegExp(`deploy-bot +\\S+ +${escape(durationText(deploy.durationMs))} +3 +1 +1 +0$`));
    expect(table.stdout).toMatch(/\n\d+ sessions in log agenttrail\.local\/gateway; agenttrail show SESSION reads one\n$/);
  });

  test.each([
    [['--agent', 'research-agent'], 'research'],
    [['--agent', 'deploy-bot'], 'deploy'],
    [['--tool', 'get-sum'], 'research'],
    [['--tool', 'everything__get-env'], 'deploy'],
    [['--outcome', 'refused'], 'deploy'],
    [['--outcome', 'error'], 'research'],
    [['--agent', 'research-agent', '--tool', 'echo'], 'research'],
  ] as const)('filters: %j', async (filter, expected) => {
    const sessions = await sessionsJson(...filter);
    expect(sessions.map((session) => session.session)).toEqual([recorded[expected]]);
  });

  it('filters by time: a session is in a range it overlaps', async () => {
    const sessions = await sessionsJson();
    const research = sessions.find((session) => session.session === recorded.research)!;
    expect(await sessionsJson('--since', '2999-01-01')).toEqual([]);
    expect(await sessionsJson('--until', '2000-01-01T00:00:00Z')).toEqual([]);
    const during = await sessionsJson('--since', research.ended, '--until', research.ended);
    expect(during.map((session) => session.session)).toContain(recorded.research);
    const after = new Date(Date.parse(research.ended) + 1).toISOString();
    expect((await sessionsJson('--since', after)).map((session) => session.session)).not.toContain(recorded.research);
  });

  it('says when nothing matches, and refuses a filter it cannot read', async () => {
    const none = await agenttrail('sessions', '--agent', 'nobody');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no sessions in log agenttrail.local/gateway matching --agent nobody\n');
    const badTime = await agenttrail('sessions', '--since', 'yesterday');
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toMatch(/^agenttrail: --since: expected an ISO 8601 date or date-time/);
    const badOutcome = await agenttrail('sessions', '--outcome', 'exploded');
    expect(badOutcome.code).toBe(2);
    expect(badOutcome.stderr).toMatch(/--outcome: .*"ok"/);
  });
});

describe('agenttrail show', () => {
  it("prints a session's timeline: each call with arguments, result, credentials and duration", async () => {
    const shown = await agenttrail('show', recorded.research);
    expect(shown.code, shown.stderr).toBe(0);
    const text = shown.stdout;
    expect(text).toMatch(/^session {2}\S+\nlog {6}agenttrail\.local\/gateway in file:.*\nagent {4}research-agent, client research-client 1\.0\.0, over http from 127\.0\.0\.1, authenticated by token, MCP 2025-11-25\n/);
    expect(text).toContain('calls    4 tool calls: 0 denied, 0 waited for approval, 2 failed');
    expect(text).toMatch(/\d\d:\d\d:\d\d\.\d{3}Z {2}tools\/call everything__echo {2}ok {2}\d+ ms\n {16}arguments {4}\{"message":"quarterly revenue figures"\}\n {16}result {7}Echo: quarterly revenue figures\n {16}credential {3}everything-token \(env UPSTREAM_API_TOKEN, scope everything:read, fingerprint hmac-sha256:[0-9a-f]{64}\)\n/);
    expect(text).toMatch(/tools\/call everything__get-sum {2}ERROR {2}\d+ ms\n {16}arguments {4}\{"a":"two","b":3\}\n {16}result {7}.*expected number, received string/);
    expect(text).toMatch(/tools\/call everything__no-such-tool {2}ERROR .*\n.*\n {16}result {7}unknown tool 'everything__no-such-tool'.*\(code -32602\)/);
    expect(text).toMatch(/session\.start/);
    expect(text).toMatch(/ {2}tools\/list {2}ok {2}\d+ ms\n {16}result {7}\d+ tools\n/);
    expect(text).not.toContain(CREDENTIAL_SECRET);
    // In the order the calls were made.
    expect(text.indexOf('everything__echo')).toBeLessThan(text.indexOf('"a":2'));
    expect(text.indexOf('"a":2')).toBeLessThan(text.indexOf('"a":"two"'));
  });

  it('shows the decision and every approval step of a call, and a denied call as denied', async () => {
    const shown = await agenttrail('show', recorded.deploy);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /tools\/call everything__get-env {2}DENIED {2}0 ms\n {16}arguments {4}\{\}\n {16}result {7}denied by policy: reading the environment is not allowed\n {16}decision {5}deny, rule no-environment, policy 5f2c5f2c5f2c: reading the environment is not allowed\n/,
    );
    expect(shown.stdout).toMatch(
      /tools\/call everything__echo {2}ok {2}3 ms\n {16}arguments {4}\{"message":"restart production"\}\n {16}result {7}Echo: restart production\n {16}decision {5}require_approval, rule production-changes, policy 5f2c5f2c5f2c\n {16}approval {5}request: .*"id":"apr-1".*\n {16}approval {5}decision: \{"approver":"alice","decision":"approve","id":"apr-1"\}\n/,
    );
  });

  it('--json gives the whole timeline as one document, payloads as recorded', async () => {
    const shown = await agenttrail('show', recorded.research, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const document = z
      .object({
        session: z.object({ session: z.string(), calls: z.number() }),
        timeline: z.array(z.looseObject({ type: z.enum(['call', 'event']), index: z.number() })),
      })
      .parse(JSON.parse(shown.stdout));
    expect(document.session).toMatchObject({ session: recorded.research, calls: 4 });
    const calls = document.timeline.filter((item) => item.type === 'call' && item['method'] === 'tools/call');
    expect(calls.map((call) => call['name'])).toEqual(['everything__echo', 'everything__get-sum', 'everything__get-sum', 'everything__no-such-tool']);
    expect(calls[0]).toMatchObject({
      arguments: { message: 'quarterly revenue figures' },
      outcome: 'ok',
      denied: false,
      result: 'Echo: quarterly revenue figures',
      resultPayload: { result: { content: [{ type: 'text', text: 'Echo: quarterly revenue figures' }] } },
      credentials: [{ name: 'everything-token', carrier: 'env UPSTREAM_API_TOKEN', scope: 'everything:read' }],
    });
    expect(typeof calls[0]!['durationMs']).toBe('number');
    // Every entry of the session is in the timeline once: as a call's or as an event.
    const indexes = document.timeline.flatMap((item) => (item.type === 'call' ? (item['entries'] as number[]) : [item.index]));
    expect(new Set(indexes).size).toBe(indexes.length);
    const listed = (await sessionsJson()).find((session) => session.session === recorded.research)!;
    expect(indexes.length).toBe(listed.entries);
  });

  it('names an unknown session and points at agenttrail sessions (exit 2)', async () => {
    const unknown = await agenttrail('show', 'no-such-session');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^agenttrail: log "agenttrail\.local\/gateway" in file:.* has no session "no-such-session"; agenttrail sessions lists the sessions it has\n$/);
    const missing = await agenttrail('show');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/show needs the SESSION to show/);
  });
});

describe('agenttrail search', () => {
  it('finds the entries whose payloads hold every word, newest first, with the words in context', async () => {
    const found = await agenttrail('search', 'quarterly', 'revenue');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/^2 entries of log agenttrail\.local\/gateway hold "quarterly revenue"\n\n/);
    expect(found.stdout).toMatch(new RegExp(`entry \\d+ {2}tool\\.result everything__echo {2}session ${recorded.research}\\n {4}Echo: quarterly revenue figures\\n`));
    expect(found.stdout.indexOf('tool.result')).toBeLessThan(found.stdout.indexOf('tool.call'));
    const reordered = await agenttrail('search', 'REVENUE', 'quarterly', '--json');
    expect(JSON.parse(reordered.stdout)).toMatchObject({ total: 2, hits: [{ kind: 'tool.result', session: recorded.research }, { kind: 'tool.call' }] });
    const none = await agenttrail('search', 'quarterly', 'canary');
    expect(none.stdout).toBe('no entry of log agenttrail.local/gateway holds "quarterly canary"\n');
  });

  it('takes punctuation and prefixes literally, and never finds a delegated secret', async () => {
    expect(JSON.parse((await agenttrail('search', 'canar*', '--json')).stdout)).toMatchObject({ total: 2 });
    expect(JSON.parse((await agenttrail('search', 'everything__no-such-tool', '--json')).stdout).total).toBeGreaterThan(0);
    expect(JSON.parse((await agenttrail('search', '"unbalanced', '--json')).stdout)).toMatchObject({ total: 0 });
    expect(JSON.parse((await agenttrail('search', CREDENTIAL_SECRET, '--json')).stdout)).toMatchObject({ total: 0 });
    const empty = await agenttrail('search');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/search needs TEXT/);
  });

  it('indexes the entries appended since the last search', async () => {
    const before = JSON.parse((await agenttrail('search', 'quarterly', '--json')).stdout) as { total: number };
    const [added] = await recorded.append([
      {
        v: 1,
        time: new Date().toISOString(),
        kind: 'tool.call',
        session: recorded.research,
        agent: { transport: 'http', id: 'research-agent' },
        server: 'everything',
        method: 'tools/call',
        tool: 'echo',
        name: 'everything__echo',
        call: 'call-late-quarterly',
        payload: { params: { name: 'everything__echo', arguments: { message: 'late quarterly numbers' } } },
      },
    ]);
    const after = JSON.parse((await agenttrail('search', 'quarterly', '--json')).stdout) as { total: number; hits: { index: number; excerpt: string }[] };
    expect(after.total).toBe(before.total + 1);
    expect(after.hits[0]).toMatchObject({ index: added!.index, excerpt: 'late quarterly numbers' });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
