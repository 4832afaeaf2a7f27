// The reviewer and approver API (issue 6 point 4, issue 5 point 3): approvers decide held calls
// over HTTP with decisions they sign with their own Ed25519 keys on their side; reviewers read;
// an agent's token opens nothing; every use, refusals included, is an api.request entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../src/ledger/canonical-json.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import type { NoteSigner } from '../src/ledger/note-keys.js';
import { policyFolder } from './support/policy-folder.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { DEFAULT_ORIGIN, keyFileBeside, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const policies = policyFolder([
  { id: 'two-person-sums', tools: ['get-sum'], action: 'require_approval', approval: { approvers: ['security'], count: 2, timeout: '1m' } },
  { id: 'quick-echoes', tools: ['echo'], action: 'require_approval', approval: { approvers: ['security'], timeout: '2s' } },
  { id: 'the-rest', action: 'allow' },
]);

const alice = parseSignerKey(generateSignerKey('alice'));
const bob = parseSignerKey(generateSignerKey('bob'));
const mallory = parseSignerKey(generateSignerKey('mallory'));

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface StatementBase {
  type: string;
  log: string;
  request: { id: string; index: number; sha256: string };
}

/** What an approver's client sends: the statement from GET /v1/approvals/ID, completed and signed with their own key. */
function signedDecision(signer: NoteSigner, base: StatementBase, decision: 'approve' | 'deny', extra: { reason?: string; time?: string; key?: string } = {}) {
  const statement = {
    ...base,
    decision,
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    approver: extra.key ?? signer.verifierKey,
    time: extra.time ?? new Date().toISOString(),
  };
  const signature = Buffer.from(signer.sign(canonicalBytes(statement))).toString('base64');
  return { decision, ...(extra.reason === undefined ? {} : { reason: extra.reason }), time: statement.time, key: statement.approver, signature };
}

describe('the reviewer and approver API', () => {
  let gateway: RunningGateway;
  let base: string;
  const tokens: Record<string, string> = {};
  const agents: ConnectedClient[] = [];

  const call = async (path: string, options: { token?: string; method?: string; body?: unknown } = {}): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  const addPrincipal = async (name: string, role: string) => {
    const added = await runAgenttrail(['agents', 'add', name, '--role', role, '--db', gateway.db, '--key', keyFileBeside(gateway.db), '--json']);
    expect(added.code, added.stderr).toBe(0);
    tokens[name] = (JSON.parse(added.stdout) as { token: string }).token;
  };
  const connect = async (token?: string) => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    agents.push(agent);
    return agent;
  };
  /** The waiting request for `tool` that was not there before, once the API lists it. */
  const waitingRequest = async (tool: string, known: readonly string[] = []) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const listed = await call('/v1/approvals', { token: tokens.rita });
      expect(listed.status).toBe(200);
      const found = (listed.body.requests as { id: string; tool: string; arguments: unknown; agent: { id?: string } }[]).find((request) => request.tool === tool && !known.includes(request.id));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no approval request for ${tool} appeared`);
  };
  const statementOf = async (id: string): Promise<StatementBase> => {
    const detail = await call(`/v1/approvals/${id}`, { token: tokens.alice });
    expect(detail.status).toBe(200);
    return (detail.body.request as { statement: StatementBase }).statement;
  };
  const textOf = (result: unknown) => (result as { content: { text?: string }[] }).content.map((part) => part.text ?? '').join('');

  beforeAll(async () => {
    gateway = await startGateway(
      { everything: startEverythingStdio() },
      {
        policies: { dir: policies },
        approvers: {
          alice: { key: alice.verifierKey, groups: ['security'], identities: ['alice-bot'] },
          bob: { key: bob.verifierKey, groups: ['security'] },
        },
      },
    );
    base = new URL(gateway.url).origin;
    await Promise.all([addPrincipal('rita', 'reviewer'), addPrincipal('alice', 'approver'), addPrincipal('bob', 'approver'), addPrincipal('alice-bot', 'agent'), addPrincipal('ada', 'admin')]);
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  it('answers 401 with a challenge without a valid token, and 403 to agent and admin tokens on every route', async () => {
    const none = await call('/v1/approvals');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="agenttrail"');
    expect(none.body.error).toMatch(/^authentication required: send Authorization: Bearer <token>/);
    const unknown = await call('/v1/approvals', { token: `agt_${'A'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(unknown.body).toEqual({ error: 'the token is not known' });

    for (const [method, path] of [['GET', '/v1/approvals'], ['GET', '/v1/approvals/some-id'], ['POST', '/v1/approvals/some-id/decision'], ['GET', '/v1/nothing-here']] as const) {
      const byAgent = await call(path, { token: tokens['alice-bot'], method, ...(method === 'POST' ? { body: {} } : {}) });
      expect(byAgent.status, `${method} ${path}`).toBe(403);
      expect(byAgent.body.error).toBe('"alice-bot" holds an agent token, which cannot use the reviewer and approver API; use a reviewer or approver token');
      expect((await call(path, { token: tokens.ada, method })).status).toBe(403);
    }
    expect((await call('/v1/nothing-here', { token: tokens.rita })).body.error).toBe(
      'no such route GET /v1/nothing-here (routes: GET /v1/approvals, GET /v1/approvals/ID, POST /v1/approvals/ID/decision)',
    );
  });

  it('holds a two-person call until two distinct approvers sign their decisions over the API, then runs it', async () => {
    const agent = await connect();
    const sum = agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 20, b: 22 } });
    const request = await waitingRequest('get-sum');
    expect(request.arguments).toEqual({ a: 20, b: 22 });
    const detail = await call(`/v1/approvals/${request.id}`, { token: tokens.rita });
    expect(detail.body.request).toMatchObject({ id: request.id, status: 'pending', rule: 'two-person-sums', count: 2, approvers: ['security'], decisions: [], statement: { type: 'agenttrail.approval-decision/v1', log: DEFAULT_ORIGIN, request: { id: request.id } } });
    const statement = await statementOf(request.id);
    const decide = (token: string, body: unknown) => call(`/v1/approvals/${request.id}/decision`, { token, body });

    expect(await decide(tokens.rita!, signedDecision(alice, statement, 'approve'))).toMatchObject({
      status: 403,
      body: { error: '"rita" holds a reviewer token, which cannot decide approval requests; use an approver token' },
    });
    const invalid = await decide(tokens.alice!, { decision: 'maybe', key: alice.verifierKey });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/^invalid decision \(decision\): .*; send JSON \{decision, reason\?, time, key, signature\}$/);
    expect((invalid.body.issues as { path: string }[]).map((issue) => issue.path)).toEqual(['decision', 'time', 'signature']);
    expect((await decide(tokens.alice!, 'not json')).status).toBe(400);
    // Mallory signs in Alice's name; a key nobody registered; a statement signed an hour ago.
    expect(await decide(tokens.alice!, signedDecision(mallory, statement, 'approve', { key: alice.verifierKey }))).toMatchObject({
      status: 400,
      body: { error: `the signature is not key ${alice.verifierKey}'s over the statement's canonical JSON (RFC 8785)` },
    });
    expect(await decide(tokens.alice!, signedDecision(mallory, statement, 'approve'))).toMatchObject({
      status: 403,
      body: { error: `key ${mallory.verifierKey} is no approver's; the config lists approvers' verifier keys under approvers` },
    });
    const stale = await decide(tokens.alice!, signedDecision(alice, statement, 'approve', { time: new Date(Date.now() - 3_600_000).toISOString() }));
    expect(stale.status).toBe(400);
    expect(stale.body.error).toMatch(/^the statement is dated .*, more than 5 minutes from the gateway's clock/);
    const otherRequest = await decide(tokens.alice!, signedDecision(alice, { ...statement, request: { ...statement.request, index: statement.request.index + 1 } }, 'approve'));
    expect(otherRequest.status).toBe(400);

    const first = await decide(tokens.alice!, signedDecision(alice, statement, 'approve', { reason: 'small numbers' }));
    expect(first).toMatchObject({ status: 200, body: { request: request.id, decision: 'approve', approver: 'alice', status: 'pending', approvals: 1, count: 2 } });
    expect(await decide(tokens.alice!, signedDecision(alice, statement, 'approve'))).toMatchObject({
      status: 409,
      body: { error: `approver "alice" already decided request ${request.id} (approve, entry ${first.body.entry as number}); approvals need distinct approvers` },
    });
    const second = await decide(tokens.bob!, signedDecision(bob, statement, 'approve'));
    expect(second).toMatchObject({ status: 200, body: { approver: 'bob', status: 'approved', approvals: 2 } });
    expect(textOf(await sum)).toBe('The sum of 20 and 22 is 42.');
    expect(await decide(tokens.bob!, signedDecision(bob, statement, 'deny'))).toMatchObject({ status: 409, body: { error: `approval request ${request.id} is used already; there is nothing to decide` } });

    const entries = await waitForEntries(() => gateway.entries(), (all) => all.some((entry) => entry.kind === 'approval.consumed'));
    const decisions = entries.filter((entry) => entry.kind === 'approval.decision');
    expect(decisions.map((entry) => [entry.agent.id, entry.agent.transport, (entry.payload as { approver: string }).approver])).toEqual([
      ['alice', 'http', 'alice'],
      ['bob', 'http', 'bob'],
    ]);
    expect(decisions[0]!.payload).toMatchObject({ reason: 'small numbers', statement: { reason: 'small numbers', approver: alice.verifierKey } });
    expect(entries.find((entry) => entry.kind === 'approval.consumed')!.payload).toEqual({ request: request.id, approvals: decisions.map((entry) => entry.index) });
  });

  it('denies at once when one approver denies; never lets an approver decide their own call, nor an expired request', async () => {
    const agent = await connect();
    const sum = agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 1 } });
    const denied = await waitingRequest('get-sum');
    const deny = await call(`/v1/approvals/${denied.id}/decision`, { token: tokens.bob, body: signedDecision(bob, await statementOf(denied.id), 'deny', { reason: 'not today' }) });
    expect(deny.body).toMatchObject({ status: 'denied' });
    expect(textOf(await sum)).toBe(`AgentTrail policy refused this call: approver bob denied it: not today (approval request ${denied.id}).`);

    const own = await connect(tokens['alice-bot']);
    void own.client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 2 } }).catch(() => undefined);
    const ownRequest = await waitingRequest('get-sum', [denied.id]);
    expect(ownRequest.agent.id).toBe('alice-bot');
    expect(await call(`/v1/approvals/${ownRequest.id}/decision`, { token: tokens.alice, body: signedDecision(alice, await statementOf(ownRequest.id), 'approve') })).toMatchObject({
      status: 403,
      body: { error: 'approver "alice" cannot decide a call made under their own identity (alice-bot)' },
    });

    const echo = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'too slow' } });
    const expired = /approval request ([0-9a-f-]{36})/.exec(textOf(echo))![1]!;
    expect(await call(`/v1/approvals/${expired}/decision`, { token: tokens.alice, body: signedDecision(alice, await statementOf(expired), 'approve') })).toMatchObject({
      status: 409,
      body: { error: `approval request ${expired} is expired; there is nothing to decide` },
    });
    expect(await call('/v1/approvals/no-such-request', { token: tokens.rita })).toMatchObject({ status: 404, body: { error: `no approval request 'no-such-request' in log "${DEFAULT_ORIGIN}"` } });
  });

  it('records every use of the API, refusals included, and the log verifies', async () => {
    const entries = await gateway.entries();
    const uses = entries.filter((entry) => entry.kind === 'api.request');
    const payloads = uses.map((entry) => entry.payload as Record<string, unknown>);
    expect(uses.every((entry) => entry.session === 'api')).toBe(true);
    expect(payloads[0]).toEqual({
      method: 'GET',
      route: '/v1/approvals',
      path: '/v1/approvals',
      status: 401,
      outcome: 'refused',
      reason: expect.stringMatching(/^authentication required/),
    });
    expect(payloads).toContainEqual({ method: 'GET', route: '/v1/approvals', path: '/v1/approvals', status: 403, outcome: 'refused', principal: 'alice-bot', role: 'agent', reason: expect.any(String) });
    const decided = payloads.filter((payload) => payload.route === '/v1/approvals/:id/decision' && payload.status === 200);
    expect(decided.map((payload) => [payload.principal, payload.role, payload.outcome])).toEqual([
      ['alice', 'approver', 'ok'],
      ['bob', 'approver', 'ok'],
      ['bob', 'approver', 'ok'],
    ]);
    expect(uses.find((entry) => (entry.payload as { principal?: string }).principal === 'alice')!.agent).toMatchObject({ transport: 'http', id: 'alice', auth: 'token' });
    expect(payloads.filter((payload) => payload.status === 400 && payload.principal === 'alice').length).toBeGreaterThanOrEqual(5);
    const verified = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });
});
