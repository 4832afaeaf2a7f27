// Sessions for the review suites, recorded the way a reviewer finds them after an incident: real
// agents (SDK clients of both revisions) calling server-everything through `agenttrail serve`, one
// authenticated with its own token, one on loopback, with a delegated credential. Policy denials
// and approvals (issue 6) have no producer in the gateway yet, so the calls that stand for them are
// appended after the gateway stops, through the log's own writer and key, in the shape the review
// reads (src/review/call-verdict.ts).
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { Entry, EntryDraft } from '../../src/ledger/entry.js';
import { canonicalHash } from '../../src/ledger/canonical-json.js';
import { parseSignerKey } from '../../src/ledger/note-keys.js';
import { openStore } from '../../src/store/open-store.js';
import { connectClient } from './clients.js';
import { DEFAULT_ORIGIN, keyFileBeside, startGateway, waitForEntries } from './gateway-process.js';
import type { RunningGateway } from './gateway-process.js';
import { runAgenttrail } from './run-agenttrail.js';
import { startEverythingStdio } from './upstream-servers.js';

/** The value of the delegated credential: it must never show in anything a reviewer reads. */
export const CREDENTIAL_SECRET = 'review-secret-9Xy7Lq2Wm4Pz';

export interface RecordedSessions {
  readonly gateway: RunningGateway;
  readonly db: string;
  /** The authenticated agent's session: tools/list, echo, get-sum, get-sum with bad arguments, an unknown tool. */
  readonly research: string;
  /** The 2026-07-28 loopback agent's session: echo, then a denied call and an approved one. */
  readonly deploy: string;
  /** Appends entries to the log through its writer, as another part of AgentTrail would. */
  append(drafts: readonly EntryDraft[]): Promise<Entry[]>;
}

export async function recordSessions(): Promise<RecordedSessions> {
  const gateway = await startGateway(
    { everything: startEverythingStdio() },
    {
      env: { REVIEW_TOKEN_SOURCE: CREDENTIAL_SECRET },
      credentials: { 'everything-token': { source: 'env:REVIEW_TOKEN_SOURCE', servers: ['everything'], env: 'UPSTREAM_API_TOKEN', scope: 'everything:read' } },
    },
  );
  const added = await runAgenttrail(['agents', 'add', 'research-agent', '--db', gateway.db, '--key', keyFileBeside(gateway.db), '--json']);
  expect(added.code, added.stderr).toBe(0);
  const token = (JSON.parse(added.stdout) as { token: string }).token;

  const research = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'research-client', headers: { authorization: `Bearer ${token}` } });
  await research.client.listTools();
  await research.client.callTool({ name: 'everything__echo', arguments: { message: 'quarterly revenue figures' } });
  await research.client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } });
  const badSum = await research.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two', b: 3 } });
  expect(badSum.isError).toBe(true);
  await expect(research.client.callTool({ name: 'everything__no-such-tool', arguments: {} })).rejects.toThrow();
  await research.close();

  const deploy = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', name: 'deploy-bot' });
  await deploy.client.callTool({ name: 'everything__echo', arguments: { message: 'deploy the canary' } });
  await deploy.close();

  await waitForEntries(gateway.entries, (all) => all.some((e) => e.kind === 'tool.result' && e.agent.client?.name === 'deploy-bot'));
  // Stopping ends the research session (its session.end entry).
  await gateway.stop();
  const entries = await gateway.entries();
  const sessionOf = (client: string): string => entries.find((entry) => entry.kind === 'tool.call' && entry.agent.client?.name === client)!.session;
  const append = (drafts: readonly EntryDraft[]) => appendThroughWriter(gateway.db, drafts);
  const deploySession = sessionOf('deploy-bot');
  const deployAgent = entries.find((entry) => entry.session === deploySession)!.agent;
  await append(policyStandIns(deploySession, deployAgent));
  return { gateway, db: gateway.db, research: sessionOf('research-client'), deploy: deploySession, append };
}

async function appendThroughWriter(db: string, drafts: readonly EntryDraft[]): Promise<Entry[]> {
  const signer = parseSignerKey((await readFile(keyFileBeside(db), 'utf8')).trim());
  const store = await openStore({ url: db });
  try {
    const appender = await store.appender(DEFAULT_ORIGIN, signer);
    const appended: Entry[] = [];
    for (const draft of drafts) appended.push(await appender.append(draft));
    return appended;
  } finally {
    await store.close();
  }
}

/** A call a policy denied, and one a human approved, as issue 6 records them. */
function policyStandIns(session: string, agent: Entry['agent']): EntryDraft[] {
  const at = (second: number) => new Date(Date.now() + second * 1000).toISOString();
  const call = (id: string, tool: string) => ({
    v: 1 as const,
    session,
    agent,
    server: 'everything',
    method: 'tools/call',
    tool,
    name: `everything__${tool}`,
    call: id,
  });
  const denied = call('call-denied-get-env', 'get-env');
  const approved = call('call-approved-echo', 'echo');
  return [
    { ...denied, time: at(1), kind: 'tool.call', argsHash: canonicalHash({}), payload: { params: { name: 'everything__get-env', arguments: {} } } },
    { ...denied, time: at(1), kind: 'policy.decision', payload: { outcome: 'deny', rule: 'no-environment', policyVersion: '5f2c5f2c5f2c5f2c', reason: 'reading the environment is not allowed' } },
    { ...denied, time: at(1), kind: 'tool.result', outcome: 'refused', durationMs: 0, payload: { error: { message: 'denied by policy: reading the environment is not allowed' } } },
    {
      ...approved,
      time: at(2),
      kind: 'tool.call',
      argsHash: canonicalHash({ message: 'restart production' }),
      payload: { params: { name: 'everything__echo', arguments: { message: 'restart production' } } },
    },
    { ...approved, time: at(2), kind: 'policy.decision', payload: { outcome: 'require_approval', rule: 'production-changes', policyVersion: '5f2c5f2c5f2c5f2c' } },
    { ...approved, time: at(2), kind: 'approval.request', payload: { id: 'apr-1', approvers: ['ops'], expires: at(600) } },
    { ...approved, time: at(4), kind: 'approval.decision', payload: { id: 'apr-1', decision: 'approve', approver: 'alice' } },
    { ...approved, time: at(4), kind: 'tool.result', outcome: 'ok', durationMs: 3, payload: { result: { content: [{ type: 'text', text: 'Echo: restart production' }] } } },
  ];
}
