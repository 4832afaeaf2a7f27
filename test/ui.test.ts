// The web UI (issue 7, point 2), end to end in headless Chromium (Debian's `chromium`, driven by
// playwright-core) against `agenttrail serve` in front of real upstreams: a reviewer signs in with
// a token, lists and filters sessions, reads a session's timeline and its calls, and verifies
// entries in the browser; an approver approves a held call with a signature made in the browser;
// an agent's token opens nothing. Screenshots go to test-results/ui/.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { DEFAULT_ORIGIN, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { addPrincipal } from './support/principals.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { filesystemStdio, startEverythingStdio } from './support/upstream-servers.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const IN_CI = process.env['CI'] === 'true';
const SCREENSHOTS = resolve('test-results/ui');
// Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
const CHROMIUM_ARGS = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && !IN_CI) {
  console.warn(`test/ui.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH); in CI these tests run and fail without it`);
}

/** The outcome colours of ui-stylesheet.ts, as Chromium computes them. */
const COLOURS = { ok: 'rgb(46, 125, 50)', error: 'rgb(198, 40, 40)', denied: 'rgb(106, 27, 154)' };

const ShownTimelineSchema = z.object({
  timeline: z.array(z.object({ type: z.string(), index: z.number(), name: z.string().nullable().optional(), outcome: z.string().nullable().optional(), denied: z.boolean().optional() })),
});

describe.skipIf(!hasChromium && !IN_CI)('the web UI', { timeout: 60_000 }, () => {
  const workFolder = mkdtempSync(join(tmpdir(), 'agenttrail-ui-work-'));
  const policyFolder = mkdtempSync(join(tmpdir(), 'agenttrail-ui-policy-'));
  const aliceSignerKey = generateSignerKey('alice');
  let gateway: RunningGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const agents: ConnectedClient[] = [];
  let reviewerToken: string;
  let approverToken: string;
  let agentToken: string;
  let research: string;
  let careless: string;

  const base = () => gateway.url.replace(/\/mcp$/, '');
  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext();
    // Well within the test's own time limit, so that a missing element fails with its name.
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    return context.newPage();
  };
  const signIn = async (page: Page, token: string, path = '/ui/') => {
    await page.goto(`${base()}${path}`);
    await page.fill('input[name=token]', token);
    return Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]).then(([response]) => response);
  };
  const screenshot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const shown = async (session: string) => {
    const result = await runAgenttrail(['show', session, '--db', gateway.db, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return ShownTimelineSchema.parse(JSON.parse(result.stdout)).timeline.filter((item) => item.type === 'call');
  };

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(
      join(policyFolder, 'rules.yaml'),
      `rules:
  - id: no-environment
    tools: [get-env]
    action: deny
    reason: reading the environment is not allowed
  - id: writes-need-a-nod
    servers: [files]
    tools: [write_file]
    action: require_approval
    approval: { approvers: [security], timeout: 2m }
  - id: the-rest
    action: allow
`,
    );
    gateway = await startGateway(
      { everything: startEverythingStdio(), files: filesystemStdio(workFolder) },
      {
        policies: { dir: policyFolder },
        approvers: { alice: { key: parseSignerKey(aliceSignerKey).verifierKey, groups: ['security'] } },
      },
    );
    [reviewerToken, approverToken, agentToken] = await Promise.all([addPrincipal(gateway, 'rita', 'reviewer'), addPrincipal(gateway, 'alice', 'approver'), addPrincipal(gateway, 'research-agent')]);

    // Two sessions a reviewer reads: a registered agent's calls (two of them fail), and an
    // anonymous loopback agent whose call a policy denies.
    const researcher = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'research-client', headers: { authorization: `Bearer ${agentToken}` } });
    await researcher.client.callTool({ name: 'everything__echo', arguments: { message: 'quarterly revenue figures' } });
    await researcher.client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } });
    expect((await researcher.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two', b: 3 } })).isError).toBe(true);
    await expect(researcher.client.callTool({ name: 'everything__no-such-tool', arguments: {} })).rejects.toThrow();
    await researcher.close();
    const anonymous = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'careless-bot' });
    expect((await anonymous.client.callTool({ name: 'everything__get-env', arguments: {} })).isError).toBe(true);
    await anonymous.close();
    const entries = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.tool === 'get-env'));
    const sessionOf = (client: string) => entries.find((entry) => entry.kind === 'tool.call' && entry.agent.client?.name === client)!.session;
    research = sessionOf('research-client');
    careless = sessionOf('careless-bot');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await Promise.all(agents.map((agent) => agent.close()));
    await gateway?.stop();
  });

  it('asks for a token, refuses an agent token (403) and keeps no cookie for it', async () => {
    const page = await newPage();
    const asked = await page.goto(`${base()}/ui/sessions`);
    expect(asked?.status()).toBe(401);
    await expect(page.locator('input[name=token][type=password]').count()).resolves.toBe(1);
    const refused = await signIn(page, agentToken, '/ui/sessions');
    expect(refused?.status()).toBe(403);
    await expect(page.locator('[role=alert]').textContent()).resolves.toBe(
      '"research-agent" holds an agent token, which cannot open the web UI; sign in with a reviewer or approver token from agenttrail agents add NAME --role reviewer|approver',
    );
    await screenshot(page, 'agent-token-refused');
    expect(await page.context().cookies()).toEqual([]);
    expect((await page.goto(`${base()}/ui/sessions`))?.status()).toBe(401);
  });

  it('lets a reviewer sign in, keeps the token in an HttpOnly SameSite=Strict cookie and out of every URL, and filters the sessions', async () => {
    const page = await newPage();
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    const landed = await signIn(page, reviewerToken);
    expect(landed?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/ui/sessions');
    const [cookie] = await page.context().cookies();
    // On loopback the cookie cannot be Secure (plain HTTP); elsewhere it is.
    expect(cookie).toMatchObject({ value: reviewerToken, httpOnly: true, sameSite: 'Strict', secure: false, path: '/ui' });
    expect(urls.filter((url) => url.includes(reviewerToken))).toEqual([]);

    const listed = () => page.locator('#sessions tbody tr').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset['session']));
    expect(await listed()).toEqual(expect.arrayContaining([research, careless]));
    await page.fill('input[name=agent]', 'research-agent');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    expect(await listed()).toEqual([research]);
    await expect(page.locator(`tr[data-session="${research}"] td.number`).allTextContents()).resolves.toEqual([expect.any(String), '4', '0', '0', '2']);
    await screenshot(page, 'sessions-filtered-by-agent');

    await page.goto(`${base()}/ui/sessions?outcome=refused`);
    expect(await listed()).toEqual([careless]);
    const bad = await page.goto(`${base()}/ui/sessions?since=yesterday`);
    expect(bad?.status()).toBe(400);
    await expect(page.locator('[role=alert]').textContent()).resolves.toMatch(/^since: expected an ISO 8601 date or date-time/);
  });

  it('shows a session as bars over time coloured by outcome, and each call in detail', async () => {
    const page = await newPage();
    await signIn(page, reviewerToken);
    await page.goto(`${base()}/ui/sessions/${research}`);
    const calls = await shown(research);
    const bars = page.locator('svg.timeline rect.bar');
    expect(await bars.count()).toBe(calls.length);
    const barOutcomes = await bars.evaluateAll((rects) => rects.map((rect) => [Number(rect.getAttribute('data-call')), rect.getAttribute('data-outcome'), getComputedStyle(rect).fill]));
    expect(barOutcomes).toEqual(calls.map((call) => [call.index, call.denied ? 'denied' : (call.outcome ?? 'pending'), expect.any(String)]));
    const colourOf = (name: string) => barOutcomes.find(([index]) => index === calls.find((call) => call.name === name)!.index)![2];
    expect(colourOf('everything__echo')).toBe(COLOURS.ok);
    expect(barOutcomes.filter(([, outcome]) => outcome === 'error').map(([, , fill]) => fill)).toEqual([COLOURS.error, COLOURS.error]);

    // A bar leads to its call's detail: what was asked, what came back, how the policy decided.
    const badSum = calls.filter((call) => call.name === 'everything__get-sum')[1]!;
    await page.click(`svg.timeline rect.bar[data-call="${badSum.index}"]`);
    const detail = page.locator(`#call-${badSum.index}`);
    await expect(detail.evaluate((element) => (element as HTMLDetailsElement).open)).resolves.toBe(true);
    const text = (await detail.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('"a": "two"');
    expect(text).toMatch(/policy\.decision \(entry \d+, [\d:.]+Z\) \{ .*"outcome": "allow", .*"rule": "the-rest" \}/);
    await screenshot(page, 'session-timeline');

    await page.goto(`${base()}/ui/sessions/${careless}`);
    await expect(page.locator('svg.timeline rect.bar[data-outcome=denied]').evaluate((rect) => getComputedStyle(rect).fill)).resolves.toBe(COLOURS.denied);
  });

  it('lets an approver approve a held call with a signature made in the browser; the call then runs and the log verifies', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'writer-bot' });
    agents.push(agent);
    const target = join(workFolder, 'approved-in-the-browser.txt');
    const call = agent.client.callTool({ name: 'files__write_file', arguments: { path: target, content: 'approved in a browser' } }, { resetTimeoutOnProgress: true, onprogress: () => undefined });

    const page = await newPage();
    const landed = await signIn(page, approverToken);
    expect(landed?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/ui/approvals');
    // An approver decides; reading the log is a reviewer's job.
    expect((await page.goto(`${base()}/ui/sessions`))?.status()).toBe(403);
    const request = page.locator('article.request');
    for (let attempt = 0; (await request.count()) === 0; attempt++) {
      expect(attempt, 'the held call never showed in the approvals queue').toBeLessThan(50);
      await page.goto(`${base()}/ui/approvals`);
    }
    await expect(request.locator('pre').textContent()).resolves.toContain('approved in a browser');
    await page.fill('#signer-key', aliceSignerKey);
    await request.locator('input[name=reason]').fill('checked the content');
    await request.locator('button[value=approve]').click();
    const output = request.locator('output[data-status]');
    await output.waitFor();
    const id = await request.getAttribute('data-request');
    expect(await output.getAttribute('data-status'), (await output.textContent()) ?? '').toBe('ok');
    await expect(output.textContent()).resolves.toMatch(new RegExp(`^approved request ${id} \\(1 of 1 approvals\\) as alice, recorded as entry \\d+ of log "${DEFAULT_ORIGIN}"$`));
    await screenshot(page, 'approval-approved');

    const result = (await call) as { content: { text?: string }[] };
    expect(result.content.map((part) => part.text).join('')).toContain('Successfully wrote to');
    expect(existsSync(target)).toBe(true);

    const entries = await gateway.entries();
    const decision = entries.find((entry) => entry.kind === 'approval.decision')!;
    expect(decision).toMatchObject({
      agent: { transport: 'http', id: 'alice', auth: 'token' },
      payload: { request: id, decision: 'approve', approver: 'alice', reason: 'checked the content', statement: { approver: parseSignerKey(aliceSignerKey).verifierKey } },
    });
    const verified = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('records no decision signed with a key that is no registered approver\'s', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'writer-bot' });
    agents.push(agent);
    void agent.client.callTool({ name: 'files__write_file', arguments: { path: join(workFolder, 'never.txt'), content: 'no' } }, { resetTimeoutOnProgress: true, onprogress: () => undefined }).catch(() => undefined);
    const page = await newPage();
    await signIn(page, approverToken);
    const request = page.locator('article.request');
    for (let attempt = 0; (await request.count()) === 0; attempt++) {
      expect(attempt).toBeLessThan(50);
      await page.goto(`${base()}/ui/approvals`);
    }
    await page.fill('#signer-key', generateSignerKey('mallory'));
    await request.locator('button[value=approve]').click();
    await request.locator('output[data-status=failed]').waitFor();
    await expect(request.locator('output').textContent()).resolves.toMatch(/^Not recorded: key mallory\+[0-9a-f]{8}\+\S+ is no approver's/);
    expect(existsSync(join(workFolder, 'never.txt'))).toBe(false);
  });

  it("verifies the selected entries in the browser, and reports the entry whose stored body was changed", async () => {
    const page = await newPage();
    await signIn(page, reviewerToken);
    await page.goto(`${base()}/ui/sessions/${research}`);
    const verify = async () => {
      await page.evaluate(() => document.getElementById('verification-summary')!.removeAttribute('data-status'));
      await page.click('#verification button[type=submit]');
      await page.locator('#verification-summary[data-status]').waitFor();
      return { status: await page.getAttribute('#verification-summary', 'data-status'), summary: await page.textContent('#verification-summary') };
    };
    const ticked = await page.locator('input[name=entry]:checked').count();
    expect(ticked).toBeGreaterThan(8);
    await expect(verify()).resolves.toEqual({ status: 'ok', summary: `OK: ${ticked} of ${ticked} entries verified in this browser against the signed checkpoint.` });
    await screenshot(page, 'verification-ok');

    // A key the reviewer trusts that did not sign the checkpoint: nothing is taken as verified.
    await page.fill('#verification input[name=key]', parseSignerKey(generateSignerKey(DEFAULT_ORIGIN)).verifierKey);
    await expect(verify()).resolves.toEqual({ status: 'failed', summary: 'FAILED: the checkpoint is not signed by that key.' });
    await page.reload();

    const echoResult = (await gateway.entries()).find((entry: Entry) => entry.session === research && entry.kind === 'tool.result' && entry.tool === 'echo')!;
    const database = createClient({ url: gateway.db });
    const [row] = (await database.execute({ sql: 'SELECT body FROM entries WHERE log = ? AND idx = ?', args: [DEFAULT_ORIGIN, echoResult.index] })).rows;
    const original = new Uint8Array(row!['body'] as ArrayBuffer);
    const tampered = new TextEncoder().encode(new TextDecoder().decode(original).replace('quarterly revenue figures', 'quarterly revenue fiddled'));
    await database.execute({ sql: 'UPDATE entries SET body = ? WHERE log = ? AND idx = ?', args: [tampered, DEFAULT_ORIGIN, echoResult.index] });
    try {
      await page.reload();
      await expect(verify()).resolves.toEqual({ status: 'failed', summary: `FAILED: 1 of ${ticked} entries do not match the signed checkpoint.` });
      await expect(page.locator(`#verification-results li[data-entry="${echoResult.index}"]`).getAttribute('data-status')).resolves.toBe('failed');
      await expect(page.locator(`#verification-results li[data-entry="${echoResult.index}"]`).textContent()).resolves.toMatch(
        new RegExp(`^entry ${echoResult.index}: FAILED: its bytes and proof do not lead to the signed root \\(root mismatch`),
      );
      await expect(page.locator('#verification-results li[data-status=ok]').count()).resolves.toBe(ticked);
      await screenshot(page, 'verification-tampered');
    } finally {
      await database.execute({ sql: 'UPDATE entries SET body = ? WHERE log = ? AND idx = ?', args: [original, DEFAULT_ORIGIN, echoResult.index] });
      database.close();
    }
  });

  it('records every use of the web UI in the log, refusals included, with principal, role, route and outcome', async () => {
    const uses = (await gateway.entries()).filter((entry) => entry.kind === 'api.request' && entry.session === 'ui').map((entry) => entry.payload);
    expect(uses).toContainEqual(expect.objectContaining({ method: 'POST', route: '/ui/login', status: 403, outcome: 'refused', principal: 'research-agent', role: 'agent' }));
    expect(uses).toContainEqual({ method: 'GET', route: '/ui/sessions/:session', path: `/ui/sessions/${research}`, status: 200, outcome: 'ok', principal: 'rita', role: 'reviewer' });
    expect(uses).toContainEqual(expect.objectContaining({ method: 'GET', route: '/ui/proofs', status: 200, outcome: 'ok', principal: 'rita' }));
    expect(uses).toContainEqual(expect.objectContaining({ method: 'POST', route: '/ui/approvals/:id/decision', status: 200, outcome: 'ok', principal: 'alice', role: 'approver', request: expect.any(String) }));
    expect(uses).toContainEqual(expect.objectContaining({ method: 'GET', route: '/ui/sessions', status: 403, outcome: 'refused', principal: 'alice', role: 'approver' }));
    // The pages' stylesheet and scripts are code, not the log: their loads are not uses.
    expect(uses.filter((use) => String((use as { path: string }).path).startsWith('/ui/assets/'))).toEqual([]);
  });
});
