// Exports for other systems (issue 7, point 4): JSON Lines of canonical entries, OCSF API Activity
// events for a SIEM (each validated against the OCSF schema's required attributes), and
// OpenTelemetry traces sent over OTLP/HTTP to a collector this test runs on loopback. They stream:
// a log of many thousand entries, with outcomes far from their requests, comes out complete and in order.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalBytes } from '../src/ledger/canonical-json.js';
import type { Entry, EntryDraft } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { openStore } from '../src/store/open-store.js';
import { DEFAULT_ORIGIN, readEntries } from './support/gateway-process.js';
import { CREDENTIAL_SECRET, recordSessions } from './support/recorded-sessions.js';
import type { RecordedSessions } from './support/recorded-sessions.js';
import { runAgenttrail } from './support/run-agenttrail.js';

// What OCSF 1.x requires of an API Activity event (class 6003): the base event's required
// attributes, the class's own (actor, api, src_endpoint), and the required attributes and
// at-least-one constraints of the objects they hold (ocsf-schema: events/base_event.json,
// events/application/api_activity.json, objects/{metadata,product,actor,api,network_endpoint,user}.json).
const AtLeastOne = (keys: readonly string[]) => (value: Record<string, unknown>) => keys.some((key) => value[key] !== undefined);
const OcsfApiActivitySchema = z
  .looseObject({
    category_uid: z.literal(6),
    class_uid: z.literal(6003),
    activity_id: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(99)]),
    type_uid: z.number().int(),
    severity_id: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5), z.literal(6), z.literal(99)]),
    time: z.number().int().positive(),
    status_id: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(99)]).optional(),
    metadata: z.looseObject({
      version: z.string().regex(/^1\.\d+\.\d+$/),
      product: z.looseObject({ name: z.string().min(1), vendor_name: z.string().min(1) }),
    }),
    actor: z
      .looseObject({ user: z.looseObject({}).refine(AtLeastOne(['account', 'name', 'uid'])).optional() })
      .refine(AtLeastOne(['process', 'user', 'invoked_by', 'session', 'app_name', 'app_uid']), 'actor needs one of process, user, invoked_by, session, app_name, app_uid'),
    api: z.looseObject({ operation: z.string().min(1), request: z.looseObject({ uid: z.string().min(1) }).optional() }),
    src_endpoint: z
      .looseObject({})
      .refine(AtLeastOne(['ip', 'uid', 'name', 'hostname', 'svc_name', 'instance_uid', 'interface_uid', 'interface_name']), 'src_endpoint needs an identifier'),
  })
  .refine((event) => event.type_uid === event.class_uid * 100 + event.activity_id, 'type_uid is class_uid * 100 + activity_id');

let recorded: RecordedSessions;
let entries: Entry[];
const agenttrail = (...args: string[]) => runAgenttrail([...args, '--db', recorded.db]);

beforeAll(async () => {
  recorded = await recordSessions();
  entries = await readEntries(recorded.db);
}, 60_000);

afterAll(async () => {
  await recorded?.gateway.stop();
});

function ocsfEvents(stdout: string) {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const parsed = OcsfApiActivitySchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`not an OCSF API Activity event: ${z.prettifyError(parsed.error)}\n${line}`);
      return parsed.data;
    });
}

describe('export --format jsonl', () => {
  it('writes every entry as its canonical JSON, one per line, in index order', async () => {
    const exported = await agenttrail('export', '--format', 'jsonl');
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trimEnd().split('\n');
    expect(lines).toEqual(entries.map((entry) => new TextDecoder().decode(canonicalBytes(entry))));
    expect(exported.stderr).toBe(`exported ${entries.length} entries of log ${DEFAULT_ORIGIN} to stdout\n`);
  });

  it('--session writes only that session, --out to a file', async () => {
    const out = join(recorded.gateway.folder, 'deploy.jsonl');
    const exported = await agenttrail('export', '--format', 'jsonl', '--session', recorded.deploy, '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    const mine = entries.filter((entry) => entry.session === recorded.deploy);
    expect((await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Entry)).toEqual(mine);
    expect(exported.stdout).toBe(`exported ${mine.length} entries of session ${recorded.deploy} of log ${DEFAULT_ORIGIN} to ${out}\n`);
    const unknown = await agenttrail('export', '--format', 'jsonl', '--session', 'no-such-session');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no session "no-such-session"; agenttrail sessions lists the sessions it has/);
  });
});

describe('export --format ocsf', () => {
  it('gives one valid API Activity event per call, joined with its outcome, and one per entry outside a call', async () => {
    const exported = await agenttrail('export', '--format', 'ocsf');
    expect(exported.code, exported.stderr).toBe(0);
    const events = ocsfEvents(exported.stdout);
    const requests = entries.filter((entry) => entry.kind === 'tool.call' || entry.kind === 'mcp.request');
    const outsideCalls = entries.filter((entry) => entry.call === undefined);
    expect(events).toHaveLength(requests.length + outsideCalls.length);
    expect(exported.stdout).not.toContain(CREDENTIAL_SECRET);

    // Each event names the entry it stands for, so a finding leads back to the signed log.
    const byUid = new Map(events.map((event) => [event.metadata['uid'] as string, event]));
    for (const request of requests) expect(byUid.has(`${DEFAULT_ORIGIN}/${request.index}`)).toBe(true);

    const echo = requests.find((entry) => entry.session === recorded.research && entry.tool === 'echo')!;
    const echoResult = entries.find((entry) => entry.call === echo.call && entry.kind === 'tool.result')!;
    expect(byUid.get(`${DEFAULT_ORIGIN}/${echo.index}`)).toMatchObject({
      activity_id: 99,
      activity_name: 'tools/call',
      type_uid: 600399,
      time: Date.parse(echo.time),
      end_time: Date.parse(echoResult.time),
      status_id: 1,
      status: 'Success',
      severity_id: 1,
      actor: { user: { uid: 'research-agent' }, app_name: 'research-client 1.0.0', session: { uid: recorded.research } },
      api: { operation: 'tools/call', service: { name: 'everything' }, request: { uid: echo.call }, response: { message: 'Echo: quarterly revenue figures' } },
      src_endpoint: { ip: '127.0.0.1' },
      resources: [{ name: 'everything__echo' }],
      unmapped: { agenttrail: { entries: [echo.index, echoResult.index], credentials: [{ name: 'everything-token' }] } },
    });
    const badSum = requests.find((entry) => entry.tool === 'get-sum' && JSON.stringify(entry.payload).includes('two'))!;
    expect(byUid.get(`${DEFAULT_ORIGIN}/${badSum.index}`)).toMatchObject({ status_id: 2, status: 'Failure', status_code: 'error', severity_id: 2 });
    const denied = requests.find((entry) => entry.call === 'call-denied-get-env')!;
    expect(byUid.get(`${DEFAULT_ORIGIN}/${denied.index}`)).toMatchObject({
      status_id: 2,
      severity_id: 3,
      message: 'deploy-bot tools/call everything__get-env: denied',
      unmapped: { agenttrail: { policy_decision: { outcome: 'deny', rule: 'no-environment' } } },
    });
    const list = requests.find((entry) => entry.method === 'tools/list')!;
    expect(byUid.get(`${DEFAULT_ORIGIN}/${list.index}`)).toMatchObject({ activity_id: 2, activity_name: 'Read', type_uid: 600302 });
    const start = entries.find((entry) => entry.kind === 'session.start')!;
    expect(byUid.get(`${DEFAULT_ORIGIN}/${start.index}`)).toMatchObject({ activity_id: 99, api: { operation: 'session.start' } });
  });
});

/** An OTLP/HTTP collector on loopback that keeps what it is sent, and answers as `answer` says. */
async function startCollector(answer: (request: number) => { status: number; body?: string } = () => ({ status: 200, body: '{}' })) {
  const received: { path: string; headers: IncomingHttpHeaders; body: unknown }[] = [];
  let requests = 0;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const reply = answer(requests++);
      if (reply.status === 200) received.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(text) });
      response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, requests: () => requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const AttributeSchema = z.object({ key: z.string(), value: z.record(z.string(), z.unknown()) });
const SpanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  name: z.string(),
  kind: z.number(),
  startTimeUnixNano: z.string().regex(/^\d+$/),
  endTimeUnixNano: z.string().regex(/^\d+$/),
  attributes: z.array(AttributeSchema),
  events: z.array(z.object({ timeUnixNano: z.string(), name: z.string(), attributes: z.array(AttributeSchema) })),
  status: z.object({ code: z.number(), message: z.string().optional() }),
});
const ExportRequestSchema = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: z.array(AttributeSchema) }),
      scopeSpans: z.array(z.object({ scope: z.object({ name: z.string() }), spans: z.array(SpanSchema) })),
    }),
  ),
});
type Span = z.infer<typeof SpanSchema>;

function spansOf(received: { body: unknown }[]): Span[] {
  return received.flatMap(({ body }) => ExportRequestSchema.parse(body).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
}

function attribute(span: Span, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

describe('export --format otlp', () => {
  it('sends each session as a trace: a root span for the session, a child span per call', async () => {
    const collector = await startCollector();
    try {
      const exported = await agenttrail('export', '--format', 'otlp', '--endpoint', collector.url, '--header', 'Authorization: Bearer collector-token');
      expect(exported.code, exported.stderr).toBe(0);
      expect(collector.received[0]).toMatchObject({ path: '/v1/traces', headers: { 'content-type': 'application/json', authorization: 'Bearer collector-token' } });
      const spans = spansOf(collector.received);
      const sessions = [...new Set(entries.map((entry) => entry.session))];
      const traces = new Map<string, Span[]>();
      for (const span of spans) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
      expect(traces.size).toBe(sessions.length);
      expect(exported.stdout).toBe(`exported ${sessions.length} sessions (${spans.length} spans) of log ${DEFAULT_ORIGIN} to ${collector.url}/v1/traces\n`);

      const research = [...traces.values()].find((trace) => trace.some((span) => attribute(span, 'mcp.session.id') === recorded.research))!;
      const [root, ...children] = research;
      expect(root!.name).toBe('mcp session');
      expect(root!.parentSpanId).toBeUndefined();
      expect(attribute(root!, 'agenttrail.calls')).toBe('4');
      for (const child of children) expect(child.parentSpanId).toBe(root!.spanId);
      const echo = children.find((span) => span.name === 'tools/call echo')!;
      expect(attribute(echo, 'mcp.method.name')).toBe('tools/call');
      expect(attribute(echo, 'gen_ai.tool.name')).toBe('echo');
      expect(attribute(echo, 'gen_ai.operation.name')).toBe('execute_tool');
      expect(attribute(echo, 'agenttrail.result')).toBe('Echo: quarterly revenue figures');
      expect(attribute(echo, 'agenttrail.credentials')).toEqual({ values: [{ stringValue: 'everything-token' }] });
      expect(echo.events.map((event) => event.name)).toEqual(['credential.delegated']);
      expect(echo.status).toEqual({ code: 0 });
      const echoResult = entries.find((entry) => entry.kind === 'tool.result' && entry.tool === 'echo' && entry.session === recorded.research)!;
      expect(BigInt(echo.endTimeUnixNano) - BigInt(echo.startTimeUnixNano)).toBe(BigInt(Math.round(echoResult.durationMs! * 1e6)));
      const failed = children.filter((span) => span.status.code === 2).map((span) => span.name);
      expect(failed).toEqual(['tools/call get-sum', 'tools/call no-such-tool']);

      const deploy = [...traces.values()].find((trace) => trace.some((span) => attribute(span, 'mcp.session.id') === recorded.deploy))!;
      const denied = deploy.find((span) => span.name === 'tools/call get-env')!;
      expect(denied.status).toEqual({ code: 2, message: 'denied by policy: reading the environment is not allowed' });
      expect(attribute(denied, 'error.type')).toBe('denied');
      const approved = deploy.find((span) => attribute(span, 'agenttrail.call') === 'call-approved-echo')!;
      expect(approved.events.map((event) => event.name)).toEqual(['policy.decision', 'approval.request', 'approval.decision']);
      expect(JSON.stringify(collector.received)).not.toContain(CREDENTIAL_SECRET);

      // Exporting again gives the same ids, so a collector can tell it has the spans already.
      const again = await startCollector();
      try {
        expect((await agenttrail('export', '--format', 'otlp', '--endpoint', `${again.url}/v1/traces`, '--session', recorded.deploy)).code).toBe(0);
        expect(spansOf(again.received).map((span) => span.spanId)).toEqual(deploy.map((span) => span.spanId));
      } finally {
        await again.close();
      }
    } finally {
      await collector.close();
    }
  });

  it('retries a collector that is briefly unavailable, and fails with its answer when it refuses', async () => {
    const busy = await startCollector((n) => (n === 0 ? { status: 503 } : { status: 200, body: '{}' }));
    try {
      const exported = await agenttrail('export', '--format', 'otlp', '--endpoint', busy.url, '--session', recorded.deploy);
      expect(exported.code, exported.stderr).toBe(0);
      expect(busy.requests()).toBe(2);
    } finally {
      await busy.close();
    }
    const refusing = await startCollector(() => ({ status: 400, body: '{"message":"bad span"}' }));
    const partial = await startCollector(() => ({ status: 200, body: '{"partialSuccess":{"rejectedSpans":"2","errorMessage":"spans too old"}}' }));
    try {
      const refused = await agenttrail('export', '--format', 'otlp', '--endpoint', refusing.url);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`agenttrail: the collector at ${refusing.url}/v1/traces refused the spans: HTTP 400 {"message":"bad span"}\n`);
      const rejected = await agenttrail('export', '--format', 'otlp', '--endpoint', partial.url);
      expect(rejected.code).toBe(2);
      expect(rejected.stderr).toMatch(/rejected 2 spans: spans too old/);
    } finally {
      await refusing.close();
      await partial.close();
    }
    const noEndpoint = await agenttrail('export', '--format', 'otlp');
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/--format otlp needs --endpoint URL/);
    const misplaced = await agenttrail('export', '--format', 'jsonl', '--endpoint', 'http://127.0.0.1:1');
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/--endpoint does not apply to --format jsonl/);
  });
});

describe('a log of many entries', () => {
  const CALLS = 6000;
  // Outcomes land this many entries after their requests, across the exporters' pages.
  const LAG = 700;
  let db: string;

  beforeAll(async () => {
    const folder = await mkdtemp(join(tmpdir(), 'agenttrail-review-many-'));
    db = pathToFileURL(join(folder, 'audit.db')).href;
    const store = await openStore({ url: db });
    try {
      const appender = await store.appender('many.test/log', parseSignerKey(generateSignerKey('many.test/log')));
      const drafts: EntryDraft[] = [];
      for (let i = 0; i < CALLS + LAG; i += 1) {
        if (i < CALLS) drafts.push(manyDraft(i, 'tool.call'));
        if (i >= LAG) drafts.push(manyDraft(i - LAG, 'tool.result'));
      }
      for (let at = 0; at < drafts.length; at += 1000) await Promise.all(drafts.slice(at, at + 1000).map((draft) => appender.append(draft)));
    } finally {
      await store.close();
    }
  }, 120_000);

  function manyDraft(n: number, kind: 'tool.call' | 'tool.result'): EntryDraft {
    const common = {
      v: 1 as const,
      time: new Date(Date.UTC(2026, 0, 1) + n * 10 + (kind === 'tool.result' ? 5 : 0)).toISOString(),
      session: `session-${n % 25}`,
      agent: { transport: 'http' as const, id: `agent-${n % 25}` },
      server: 'everything',
      method: 'tools/call',
      tool: 'echo',
      name: 'everything__echo',
      call: `call-${n}`,
    };
    return kind === 'tool.call'
      ? { ...common, kind, payload: { params: { name: 'everything__echo', arguments: { message: `message ${n}` } } } }
      : { ...common, kind, outcome: n % 100 === 0 ? 'error' : 'ok', durationMs: 5, payload: { result: { content: [{ type: 'text', text: `Echo: message ${n}` }] } } };
  }

  it('jsonl holds every stored body, byte for byte, in order', async () => {
    const exported = await runAgenttrail(['export', '--format', 'jsonl', '--db', db]);
    expect(exported.code, exported.stderr).toBe(0);
    const client = createClient({ url: db });
    try {
      const stored = createHash('sha256');
      const rows = await client.execute("SELECT body FROM entries WHERE log = 'many.test/log' ORDER BY idx");
      for (const row of rows.rows) stored.update(Buffer.from(row['body'] as ArrayBuffer)).update('\n');
      expect(createHash('sha256').update(exported.stdout).digest('hex')).toBe(stored.digest('hex'));
      expect(rows.rows).toHaveLength(2 * CALLS);
    } finally {
      client.close();
    }
  }, 60_000);

  it('ocsf joins every call with its outcome wherever it is, and every event is valid', async () => {
    const exported = await runAgenttrail(['export', '--format', 'ocsf', '--db', db]);
    expect(exported.code, exported.stderr).toBe(0);
    const JoinedCallSchema = z.object({
      api: z.object({ request: z.object({ uid: z.string() }) }),
      unmapped: z.object({ agenttrail: z.object({ entries: z.array(z.number()) }) }),
      status_id: z.number(),
    });
    const events = ocsfEvents(exported.stdout).map((event) => JoinedCallSchema.parse(event));
    expect(events).toHaveLength(CALLS);
    // Call n's request was appended at index n (before the first outcome) or 2n - LAG; its outcome LAG calls later.
    const requestIndex = (n: number): number => (n < LAG ? n : 2 * n - LAG);
    const outcomeIndex = (n: number): number => (n + LAG < CALLS ? requestIndex(n + LAG) + 1 : CALLS + n);
    events.forEach((event, n) => {
      expect(event.api.request.uid).toBe(`call-${n}`);
      expect(event.unmapped.agenttrail.entries).toEqual([requestIndex(n), outcomeIndex(n)]);
      expect(event.status_id).toBe(n % 100 === 0 ? 2 : 1);
    });
  }, 60_000);

  it('otlp sends every session as one trace, in requests of bounded size', async () => {
    const collector = await startCollector();
    try {
      const exported = await runAgenttrail(['export', '--format', 'otlp', '--endpoint', collector.url, '--db', db]);
      expect(exported.code, exported.stderr).toBe(0);
      const perRequest = collector.received.map((request) => spansOf([request]).length);
      expect(Math.max(...perRequest)).toBeLessThanOrEqual(256);
      const spans = spansOf(collector.received);
      expect(spans).toHaveLength(CALLS + 25);
      expect(new Set(spans.map((span) => span.traceId)).size).toBe(25);
      expect(new Set(spans.map((span) => span.spanId)).size).toBe(spans.length);
      expect(spans.filter((span) => span.status.code === 2 && span.parentSpanId !== undefined)).toHaveLength(CALLS / 100);
    } finally {
      await collector.close();
    }
  }, 60_000);
});
