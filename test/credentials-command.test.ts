// The life cycle of delegated credentials (issue 5, point 2): `agenttrail credentials add | rotate |
// revoke | list`, each a ledger entry that holds the secret's keyed fingerprint, never the secret.
// A revocation holds in a running gateway from its next request on: a call that needs the
// credential fails with a tool error and is recorded, and no request carries the credential.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { reportedHeaders, startCredentialEchoServer } from './support/credential-echo-server.js';
import type { CredentialEchoServer } from './support/credential-echo-server.js';
import { DEFAULT_ORIGIN, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { refusalOf, runAgenttrail } from './support/run-agenttrail.js';
import { everythingRecorded, keyedFingerprint } from './support/recorded-secrets.js';
import type { CliResult } from './support/run-agenttrail.js';

const FIRST_SECRET = 'api-secret-first-6Rn3Kc8Tz1';
const SECOND_SECRET = 'api-secret-second-2Vh7Ym4Qb9';
const SPARE_KEY = 'spare-secret-8Lc5Wd0Xe3';

describe('agenttrail credentials', () => {
  const secrets = mkdtempSync(join(tmpdir(), 'agenttrail-secrets-'));
  const secretFile = join(secrets, 'api-token');
  let echo: CredentialEchoServer;
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  const outputs: string[] = [];

  beforeAll(async () => {
    writeFileSync(secretFile, `${FIRST_SECRET}\n`);
    echo = await startCredentialEchoServer();
    gateway = await startGateway(
      { echo: { url: echo.url, protocol: '2025-11-25' } },
      {
        env: { SPARE_KEY },
        credentials: {
          'api-token': { source: `file:${secretFile}`, servers: ['echo'], header: 'Authorization', format: 'Bearer {value}' },
          'spare-key': { source: 'env:SPARE_KEY', servers: ['echo'], header: 'X-Audit-Key', tools: ['repo-*'] },
        },
      },
    );
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await Promise.all([gateway?.stop(), echo?.close()]);
  });

  async function credentials(...args: string[]): Promise<CliResult> {
    const result = await runAgenttrail(['credentials', ...args, '--config', join(gateway.folder, 'agenttrail.yaml')], { cwd: gateway.folder });
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  async function succeeds(...args: string[]): Promise<CliResult> {
    const result = await credentials(...args);
    expect(result.code, result.stderr).toBe(0);
    return result;
  }

  /** A command refused with exit code 2; its one-line reason. */
  async function refused(...args: string[]): Promise<string> {
    return refusalOf(await credentials(...args));
  }

  const fingerprint = (value: string): string => keyedFingerprint(gateway.folder, value);

  it("records adding and rotating a credential by its secret's keyed fingerprint, and lists them", async () => {
    const added = JSON.parse((await succeeds('add', 'api-token', '--json')).stdout) as unknown;
    expect(added).toEqual({
      action: 'add',
      credential: { name: 'api-token', status: 'active', fingerprint: fingerprint(FIRST_SECRET) },
      entry: { log: DEFAULT_ORIGIN, index: expect.any(Number) },
    });
    expect(await refused('add', 'api-token')).toBe('agenttrail: credential "api-token" was added already; once its secret has changed at the source, use rotate');
    expect(await refused('rotate', 'api-token')).toBe(
      `agenttrail: the secret at the source of credential "api-token" is the one recorded already (${fingerprint(FIRST_SECRET)}); change it at the source first`,
    );
    writeFileSync(secretFile, `${SECOND_SECRET}\n`);
    const rotated = await succeeds('rotate', 'api-token');
    expect(rotated.stderr).toMatch(new RegExp(`^agenttrail: rotated credential "api-token" \\(fingerprint ${fingerprint(SECOND_SECRET)}\\), recorded as entry \\d+ of log "${DEFAULT_ORIGIN}"`));

    const list = await succeeds('list');
    expect(list.stdout).toMatch(new RegExp(`^api-token +active +${fingerprint(SECOND_SECRET).slice(0, 28)}… +\\d{4}-`, 'm'));
    expect(list.stdout).toMatch(/^spare-key +unrecorded +- +-$/m);
    expect(JSON.parse((await succeeds('list', '--json')).stdout)).toEqual({
      credentials: [
        { name: 'api-token', status: 'active', fingerprint: fingerprint(SECOND_SECRET), created: expect.any(String), updated: expect.any(String) },
        { name: 'spare-key', status: 'unrecorded' },
      ],
    });

    const entries = (await gateway.entries()).filter((entry) => entry.kind.startsWith('credential.'));
    expect(entries.map((entry) => [entry.kind, entry.session, entry.payload])).toEqual([
      ['credential.added', 'credentials', { name: 'api-token', status: 'active', fingerprint: fingerprint(FIRST_SECRET) }],
      ['credential.rotated', 'credentials', { name: 'api-token', status: 'active', fingerprint: fingerprint(SECOND_SECRET) }],
    ]);
    for (const entry of entries) expect(entry.agent).toEqual({ transport: 'cli', user: userInfo().username });
  });

  it('revokes a credential that was never added, which a running gateway then stops delegating', async () => {
    const both = { authorization: `Bearer ${FIRST_SECRET}`, 'x-audit-key': SPARE_KEY };
    expect(reportedHeaders(await agent.client.callTool({ name: 'echo__repo-read', arguments: {} }))).toEqual(both);
    await succeeds('revoke', 'spare-key');
    const call = await agent.client.callTool({ name: 'echo__repo-read', arguments: {} });
    expect(call).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^credential "spare-key" was revoked/) }] });
    // Calls that do not need it are not touched.
    expect(reportedHeaders(await agent.client.callTool({ name: 'echo__whoami', arguments: {} }))).toEqual({ authorization: `Bearer ${FIRST_SECRET}` });
    expect(JSON.parse((await succeeds('list', '--json')).stdout)).toMatchObject({
      credentials: [{ name: 'api-token', status: 'active' }, { name: 'spare-key', status: 'revoked', fingerprint: null }],
    });
  });

  it('revokes a credential in a running gateway at once: a call that needs it fails with a tool error, and no request carries it', async () => {
    // The gateway delegates what it read at start, whatever was rotated since (see the test before).
    const revoked = await succeeds('revoke', 'api-token');
    expect(revoked.stderr).toMatch(/^agenttrail: revoked credential "api-token" \(fingerprint hmac-sha256:[0-9a-f]{64}\), recorded as entry \d+ of log/);
    const seenBefore = echo.seen.length;

    const refusedCall = await agent.client.callTool({ name: 'echo__whoami', arguments: {} });
    expect(refusedCall).toEqual({
      content: [{ type: 'text', text: "credential \"api-token\" was revoked (agenttrail credentials revoke); the call was not sent to server 'echo'" }],
      isError: true,
    });
    // A request that needs no single credential still goes, without the revoked one.
    expect((await agent.client.listTools()).tools.map((tool) => tool.name)).toContain('echo__whoami');
    expect(echo.seen.slice(seenBefore)).toEqual([{ method: 'tools/list', headers: {} }]);

    const failedHere = (entry: { kind: string; payload?: unknown }) => entry.kind === 'credential.failed' && JSON.stringify(entry.payload).includes('"api-token"');
    const entries = await waitForEntries(gateway.entries, (all) => all.some(failedHere));
    const failed = entries.find(failedHere)!;
    expect(failed.payload).toEqual({ credential: { name: 'api-token', carrier: 'header Authorization' }, reason: 'was revoked (agenttrail credentials revoke)' });
    expect(entries.find((entry) => entry.kind === 'tool.result' && entry.call === failed.call)).toMatchObject({ outcome: 'refused' });
    expect(entries.filter((entry) => entry.kind === 'credential.revoked').map((entry) => entry.payload)).toEqual([
      { name: 'spare-key', status: 'revoked' },
      { name: 'api-token', status: 'revoked', fingerprint: fingerprint(SECOND_SECRET) },
    ]);

    expect(await refused('add', 'api-token')).toBe('agenttrail: credential "api-token" was revoked and its name cannot be used again; configure the new secret under a new name');
    expect(await refused('revoke', 'api-token')).toBe('agenttrail: credential "api-token" is revoked, which is final');
    expect((await succeeds('list')).stdout).toMatch(/^api-token +revoked /m);
  });

  it('refuses what does not apply with exit code 2 and a reason, and records nothing', async () => {
    const before = (await gateway.entries()).length;
    expect(await refused('add', 'nope')).toBe(
      `agenttrail: there is no credential "nope" in ${join(gateway.folder, 'agenttrail.yaml')} (credentials: api-token, spare-key); pass the gateway's --config, which says where its secret comes from`,
    );
    expect(await refused('revoke', 'nope')).toBe('agenttrail: there is no credential named "nope" in the config or the database');
    expect(await refused('rotate')).toBe('agenttrail: credentials rotate needs a NAME');
    expect(await refused('delete', 'api-token')).toBe('agenttrail: unknown credentials action "delete" (actions: add, list, rotate, revoke)');
    expect((await gateway.entries()).length).toBe(before);
  });

  it('keeps every secret out of the database, the export, the command output and the gateway output, and the log verifies', async () => {
    const everything = [await everythingRecorded(gateway), ...outputs].join('\n');
    for (const secret of [FIRST_SECRET, SECOND_SECRET, SPARE_KEY]) expect(everything).not.toContain(secret);
  });
});
