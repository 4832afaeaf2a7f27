// Policies change while the gateway runs (issue 6, point 2): an edit takes effect without a
// restart and is recorded with its version; an edit that does not validate is refused with file,
// line and reason, recorded, and the policy in force keeps deciding.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyFolder } from '../src/cli/policy-folder.js';
import type { Entry } from '../src/ledger/entry.js';
import { policyVersion } from '../src/policy/policy-version.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const ECHO_OFF = 'rules:\n  - id: echo-off\n    tools: [echo]\n    action: deny\n    reason: echo is switched off\n';
const ECHO_ON = 'rules:\n  - id: echo-on\n    tools: [echo]\n    action: allow\n';

function kindsOf(entries: Entry[], kind: string): Entry[] {
  return entries.filter((entry) => entry.kind === kind);
}

describe('policy hot reload', () => {
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-reload-'));
  let gateway: RunningGateway;
  let agent: ConnectedClient;

  const echo = async (): Promise<{ text: string; refused: boolean }> => {
    const result = (await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } })) as { isError?: boolean; content: { text?: string }[] };
    return { text: result.content.map((part) => part.text ?? '').join(''), refused: result.isError === true };
  };
  const version = async () => policyVersion(await readPolicyFolder(folder));
  const lastDecision = async () => kindsOf(await gateway.entries(), 'policy.decision').at(-1)?.payload;

  beforeAll(async () => {
    writeFileSync(join(folder, 'echo.yaml'), ECHO_OFF);
    gateway = await startGateway({ everything: startEverythingStdio() }, { policies: { dir: folder } });
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
  });

  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
  });

  it('applies an edited file to the next call, after recording the new version', async () => {
    expect(await echo()).toEqual({ text: 'AgentTrail policy refused this call: echo is switched off', refused: true });
    const first = await version();

    writeFileSync(join(folder, 'echo.yaml'), ECHO_ON);
    const second = await version();
    const entries = await waitForEntries(() => gateway.entries(), (all) => kindsOf(all, 'policy.loaded').length === 2);
    expect(kindsOf(entries, 'policy.loaded').map((entry) => (entry.payload as { version: string }).version)).toEqual([first, second]);
    expect(kindsOf(entries, 'policy.loaded')[1]?.payload).toMatchObject({ rules: [{ id: 'echo-on', file: 'echo.yaml', action: 'allow' }], files: [{ name: 'echo.yaml', text: ECHO_ON }] });
    expect(gateway.output().stderr).toContain(`agenttrail: policy ${second.slice(0, 12)} loaded from ${folder} (1 rule)`);

    expect(await echo()).toEqual({ text: 'Echo: hi', refused: false });
    expect(await lastDecision()).toMatchObject({ outcome: 'allow', rule: 'echo-on', policyVersion: second });
  });

  it('rejects a broken file with file, line and reason, records it, and keeps the policy in force', async () => {
    const inForce = await version();
    writeFileSync(join(folder, 'more.yaml'), 'rules:\n  - id: typo\n    action: alow\n');
    const entries = await waitForEntries(() => gateway.entries(), (all) => kindsOf(all, 'policy.rejected').length === 1);
    const rejected = kindsOf(entries, 'policy.rejected')[0]!;
    expect(rejected).toMatchObject({ session: 'policies', agent: { transport: 'cli' } });
    expect(rejected.payload).toEqual({
      dir: folder,
      version: await version(),
      inForce,
      problems: [{ file: join(folder, 'more.yaml'), line: 3, column: 5, path: 'rules[0].action', reason: 'expected allow, deny, require_approval or limit, got "alow"' }],
    });
    expect(gateway.output().stderr).toContain(
      `agenttrail: policy change rejected, policy ${inForce.slice(0, 12)} stays in force: ${folder}/more.yaml:3:5: rules[0].action: expected allow, deny, require_approval or limit, got "alow"`,
    );

    expect(await echo()).toEqual({ text: 'Echo: hi', refused: false });
    expect(await lastDecision()).toMatchObject({ outcome: 'allow', rule: 'echo-on', policyVersion: inForce });
    expect(kindsOf(await gateway.entries(), 'policy.loaded')).toHaveLength(2);
  });

  it('takes the folder again once the broken file is fixed or removed', async () => {
    rmSync(join(folder, 'more.yaml'));
    writeFileSync(join(folder, 'echo.yaml'), ECHO_OFF);
    const entries = await waitForEntries(() => gateway.entries(), (all) => kindsOf(all, 'policy.loaded').length === 3);
    expect((kindsOf(entries, 'policy.loaded')[2]?.payload as { version: string }).version).toBe(await version());
    expect((await echo()).refused).toBe(true);
  });
});

describe('a gateway whose policy folder is broken at start', () => {
  it('does not start, and says which file, line and reason', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-broken-'));
    writeFileSync(join(folder, 'a.yaml'), 'rules:\n  - id: x\n    action: deny\n');
    await expect(startGateway({ everything: startEverythingStdio() }, { policies: { dir: folder } })).rejects.toThrow(
      `agenttrail: ${folder}/a.yaml:3:5: rules[0].action: action deny needs a reason: (shown to the agent)`,
    );
  });
});
