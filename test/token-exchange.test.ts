// OAuth 2.0 token exchange (RFC 8693; issue 5, point 4): for each agent the gateway obtains a
// down-scoped upstream token from a token endpoint, which this suite runs on loopback, puts it into
// the upstream request's header, and records its use (fingerprint, scope, expiry; never the token).
// An endpoint that refuses, hangs or answers garbage fails the call with a tool error naming the
// credential, recorded, and the call never goes upstream.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ClientRevision } from './support/clients.js';
import { reportedHeaders, startCredentialEchoServer } from './support/credential-echo-server.js';
import type { CredentialEchoServer } from './support/credential-echo-server.js';
import { startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { AUDIENCE, ISSUER, startIssuer } from './support/oauth-issuer.js';
import type { TestIssuer } from './support/oauth-issuer.js';
import { addPrincipal } from './support/principals.js';
import { everythingRecorded, keyedFingerprint } from './support/recorded-secrets.js';

const CLIENT_ID = 'agenttrail-gateway';
// Characters that RFC 6749's form encoding of HTTP Basic credentials must escape.
const CLIENT_SECRET = 'cl!ent s3cret+/=7Pq';
const SERVICE_SUBJECT = 'svc-subject-2Wq8Ne5Jv3';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const TIMEOUT_MS = 500;

type EndpointMode = 'issue' | 'refuse' | 'leak-secret' | 'hang' | 'garbage';

/** A token endpoint that issues `tx-...` tokens for an hour, scoped as asked, to the gateway's client. */
async function startTokenEndpoint() {
  const requests: { authorization: string | undefined; form: Record<string, string> }[] = [];
  const issued = new Map<string, string>();
  const state = { mode: 'issue' as EndpointMode };
  const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const form = Object.fromEntries(new URLSearchParams(body));
    requests.push({ authorization: request.headers.authorization, form });
    const [id, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':')
      .map((part) => new URLSearchParams(`x=${part}`).get('x'));
    switch (state.mode) {
      case 'hang':
        return;
      case 'garbage':
        return response.writeHead(200, { 'content-type': 'application/json' }).end('<html>upstream proxy error</html>');
      case 'refuse':
        return json(response, 400, { error: 'invalid_grant', error_description: 'the subject token has been revoked' });
      case 'leak-secret':
        return json(response, 401, { error: 'invalid_client', error_description: `client secret ${secret} is not the one on file` });
      case 'issue': {
        if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return json(response, 401, { error: 'invalid_client' });
        if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' || form.subject_token === undefined) return json(response, 400, { error: 'invalid_request' });
        const token = `tx-${randomUUID()}`;
        issued.set(form.subject_token, token);
        return json(response, 200, { access_token: token, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: 3600, scope: form.scope });
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests,
    issued,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OAuth token exchange for upstream credentials', () => {
  let issuer: TestIssuer;
  let endpoint: Awaited<ReturnType<typeof startTokenEndpoint>>;
  let echo: CredentialEchoServer;
  let gateway: RunningGateway;
  const jwts: string[] = [];

  beforeAll(async () => {
    [issuer, endpoint, echo] = await Promise.all([startIssuer(), startTokenEndpoint(), startCredentialEchoServer()]);
    gateway = await startGateway(
      { echo: { url: echo.url, protocol: '2025-11-25' } },
      {
        auth: { unauthenticated: 'refuse', oauth: { issuer: ISSUER, audience: AUDIENCE, jwks: issuer.jwks } },
        env: { TX_CLIENT_SECRET: CLIENT_SECRET, SERVICE_SUBJECT_TOKEN: SERVICE_SUBJECT },
        credentials: {
          'upstream-token': {
            source: {
              tokenExchange: {
                endpoint: endpoint.url,
                clientId: CLIENT_ID,
                clientSecret: 'env:TX_CLIENT_SECRET',
                audience: 'echo-api',
                scope: 'repo:read',
                subjectToken: 'env:SERVICE_SUBJECT_TOKEN',
                timeoutMs: TIMEOUT_MS,
              },
            },
            servers: ['echo'],
            header: 'Authorization',
            format: 'Bearer {value}',
          },
          'audit-token': {
            source: { tokenExchange: { endpoint: endpoint.url, clientId: CLIENT_ID, clientSecret: 'env:TX_CLIENT_SECRET', audience: 'audit-api' } },
            servers: ['echo'],
            header: 'X-Audit-Key',
            tools: ['repo-read'],
          },
        },
      },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([issuer?.close(), endpoint?.close(), echo?.close()]);
  });

  /** Calls `tool` as an agent with the given bearer token (an OAuth access token or an agt_ token). */
  async function callAs(bearer: string, tool: string, revision: ClientRevision = '2025-11-25', times = 1) {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision, headers: { authorization: `Bearer ${bearer}` } });
    try {
      const results = [];
      for (let i = 0; i < times; i++) results.push(await agent.client.callTool({ name: `echo__${tool}`, arguments: {} }));
      return results;
    } finally {
      await agent.close();
    }
  }

  async function oauthToken(): Promise<string> {
    const jwt = await issuer.sign({});
    jwts.push(jwt);
    return jwt;
  }

  test.each(REVISIONS)("exchanges the OAuth agent's own access token (%s) for an upstream token, used for its calls until shortly before it expires", async (revision) => {
    const jwt = await oauthToken();
    const asked = endpoint.requests.length;
    const before = Date.now();
    const results = await callAs(jwt, 'whoami', revision, 2);

    expect(endpoint.requests.slice(asked)).toHaveLength(1);
    const exchange = endpoint.requests[asked]!;
    expect(exchange.form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: jwt,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: 'echo-api',
      scope: 'repo:read',
    });
    const token = endpoint.issued.get(jwt)!;
    for (const result of results) expect(reportedHeaders(result)).toEqual({ authorization: `Bearer ${token}` });

    const fingerprint = keyedFingerprint(gateway.folder, token);
    const usedHere = (entry: { kind: string; payload?: unknown }) => entry.kind === 'credential.delegated' && JSON.stringify(entry.payload).includes(fingerprint);
    const entries = await waitForEntries(gateway.entries, (all) => all.filter(usedHere).length === 2);
    for (const entry of entries.filter(usedHere)) {
      const { credential } = entry.payload as { credential: Record<string, string> };
      expect(credential).toMatchObject({ name: 'upstream-token', carrier: 'header Authorization', fingerprint, scope: 'repo:read' });
      const expires = Date.parse(credential.expires!);
      expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000);
      // The upstream echoed the token: the log holds a marker naming the credential instead.
      const outcome = await waitForEntries(gateway.entries, (all) => all.some((other) => other.kind === 'tool.result' && other.call === entry.call));
      const recordedResult = JSON.stringify(outcome.find((other) => other.kind === 'tool.result' && other.call === entry.call)!.payload);
      expect(recordedResult).toContain('[redacted:credential:upstream-token:');
      expect(recordedResult).not.toContain(token);
    }
  });

  it('exchanges the configured subject token for an agent that did not authenticate with OAuth', async () => {
    const asked = endpoint.requests.length;
    const [result] = await callAs(await addPrincipal(gateway, 'ci-bot'), 'whoami', '2026-07-28');
    expect(endpoint.requests.slice(asked).map((request) => request.form.subject_token)).toEqual([SERVICE_SUBJECT]);
    expect(reportedHeaders(result)).toEqual({ authorization: `Bearer ${endpoint.issued.get(SERVICE_SUBJECT)}` });
  });

  it('refuses a call whose token exchange has no subject: the agent has no OAuth access token and none is configured', async () => {
    const callsUpstream = echo.seen.filter((request) => request.method === 'tools/call').length;
    const [result] = await callAs(await addPrincipal(gateway, 'plain-bot'), 'repo-read');
    expect(result).toEqual({
      isError: true,
      content: [
        {
          type: 'text',
          text:
            'credential "audit-token" needs a subject token to exchange: the agent did not authenticate with an OAuth access token, ' +
            "and tokenExchange.subjectToken is not set; the call was not sent to server 'echo'",
        },
      ],
    });
    expect(echo.seen.filter((request) => request.method === 'tools/call')).toHaveLength(callsUpstream);
    // An OAuth agent's own token is its subject.
    const [allowed] = await callAs(await oauthToken(), 'repo-read');
    expect(Object.keys(reportedHeaders(allowed)).sort()).toEqual(['authorization', 'x-audit-key']);
  });

  const failures: { mode: EndpointMode; reason: RegExp }[] = [
    { mode: 'refuse', reason: /^could not be obtained: the token endpoint refused the exchange \(HTTP 400, invalid_grant: the subject token has been revoked\)$/ },
    { mode: 'hang', reason: new RegExp(`^could not be obtained: the token endpoint did not answer within ${TIMEOUT_MS} ms$`) },
    { mode: 'garbage', reason: /^could not be obtained: the token endpoint's answer is not JSON$/ },
    {
      mode: 'leak-secret',
      reason: /^could not be obtained: the token endpoint refused the exchange \(HTTP 401, invalid_client: client secret \[redacted:credential:[a-z-]+\.client-secret:[0-9a-f]{32}:[0-9a-f]{64}\] is not the one on file\)$/,
    },
  ];

  test.each(failures)('fails the call with a tool error naming the credential when the endpoint answers $mode, and records it', async ({ mode, reason }) => {
    endpoint.state.mode = mode;
    const callsUpstream = echo.seen.filter((request) => request.method === 'tools/call').length;
    let result;
    try {
      [result] = await callAs(await oauthToken(), 'whoami');
    } finally {
      endpoint.state.mode = 'issue';
    }
    const text = (result as { content: { text: string }[] }).content[0]!.text;
    expect(result).toMatchObject({ isError: true });
    expect(text).toMatch(/^credential "upstream-token" could not be obtained: /);
    expect(text.replace(/^credential "upstream-token" /, '').replace(/; the call was not sent to server 'echo'$/, '')).toMatch(reason);
    expect(text).not.toContain(CLIENT_SECRET);
    expect(echo.seen.filter((request) => request.method === 'tools/call')).toHaveLength(callsUpstream);

    const failedHere = (entry: { kind: string; payload?: unknown }) => entry.kind === 'credential.failed' && reason.test((entry.payload as { reason: string }).reason);
    const entries = await waitForEntries(gateway.entries, (all) => all.some(failedHere));
    const failed = entries.find(failedHere)!;
    expect(failed.payload).toMatchObject({ credential: { name: 'upstream-token', carrier: 'header Authorization' } });
    const outcome = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.call === failed.call));
    expect(outcome.find((entry) => entry.kind === 'tool.result' && entry.call === failed.call)).toMatchObject({ outcome: 'refused', payload: { result: { isError: true, content: [{ text }] } } });
  });

  it('keeps the exchanged tokens, the client secret and the subject tokens out of the database, the export and the gateway\'s output', async () => {
    const everything = await everythingRecorded(gateway);
    expect(everything).toContain('[redacted:credential:upstream-token:');
    const secrets = [CLIENT_SECRET, SERVICE_SUBJECT, ...endpoint.issued.values(), ...jwts];
    expect(secrets.length).toBeGreaterThan(4);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
