// A 2026-07-28 agent on stdio behind `agenttrail wrap -- server-everything` (issue 2, points 4 and
// 5) gets the upstream's elicitation, sampling and roots requests as it gets them over HTTP: as
// input_required rounds it answers. server-everything speaks 2025 revisions only, so it asks
// push-style in the middle of a call, and the gateway holds that call open between the agent's
// rounds. (Its subscriptions/listen streams are covered with the other wrap checks, in
// forwarding-wrap.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { readEntries, waitForEntries, wrapLaunch } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';
import { asJson, askedCount, nextNotification, notificationParams, recordingHandlers, toolsInRevision, withoutEnvelope, type RecordingHandlers } from './fixtures/forwarding-cases.js';

const folder = mkdtempSync(join(tmpdir(), 'agenttrail-wrap-2026-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A 2026-07-28 agent that can answer questions, on stdio through its own wrap process and log. */
async function wrappedAgent(db: string, name: string): Promise<{ agent: ConnectedClient; handlers: RecordingHandlers }> {
  const handlers = recordingHandlers();
  const agent = await connectClient({
    transport: 'stdio',
    server: wrapLaunch(startEverythingStdio(), db, ['--name', 'everything']),
    revision: '2026-07-28',
    name,
    handlers: handlers.handlers,
  });
  return { agent, handlers };
}

describe('a 2026-07-28 stdio agent answers the upstream’s elicitation, sampling and roots in input rounds', () => {
  const db = `file:${join(folder, 'rounds.db')}`;
  let agent: ConnectedClient;
  let agentHandlers: RecordingHandlers;
  let direct: ConnectedClient;
  let directHandlers: RecordingHandlers;
  const entries = (until: (all: Entry[]) => boolean) => waitForEntries(() => readEntries(db), until);

  beforeAll(async () => {
    ({ agent, handlers: agentHandlers } = await wrappedAgent(db, 'stdio-rounds-agent'));
    directHandlers = recordingHandlers();
    direct = await connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25', handlers: directHandlers.handlers });
  });
  afterAll(async () => {
    await agent?.close();
    await direct?.close();
  });

  test('the tools that need those capabilities are offered, exactly as the server offers them to a client that declares them', async () => {
    const through = (await agent.client.listTools()).tools;
    const straight = (await direct.client.listTools()).tools as Record<string, unknown>[];
    expect(through).toEqual(toolsInRevision('2026-07-28', straight));
    expect(through.map((tool) => tool.name)).toEqual(expect.arrayContaining(['trigger-elicitation-request', 'trigger-sampling-request', 'get-roots-list']));
  });

  test.each([
    ['elicitation', 'trigger-elicitation-request', {}],
    ['sampling', 'trigger-sampling-request', { prompt: 'what is AgentTrail?', maxTokens: 20 }],
    ['roots', 'get-roots-list', {}],
  ] as const)('%s: the agent is asked what the upstream asks, and the upstream gets its answer', async (kind, tool, args) => {
    const askedBefore = askedCount(agentHandlers, kind);
    const through = await agent.client.callTool({ name: tool, arguments: args });
    const straight = await direct.client.callTool({ name: tool, arguments: args });
    expect(withoutEnvelope(through)).toEqual(straight);
    expect(askedCount(agentHandlers, kind)).toBe(askedBefore + 1);
    if (kind !== 'roots') expect(asJson(agentHandlers.asked[kind].at(-1))).toEqual(asJson(directHandlers.asked[kind].at(-1)));

    const log = await entries((all) => all.some((entry) => entry.kind === 'tool.result' && entry.name === tool));
    const calls = log.filter((entry) => entry.kind === 'tool.call' && entry.name === tool);
    // One call in the log however many rounds it took, with the upstream's question in between.
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    const result = log.find((entry) => entry.kind === 'tool.result' && entry.call === call.call)!;
    expect(result).toMatchObject({ outcome: 'ok', server: 'everything', tool });
    const question = log.find((entry) => entry.kind === 'mcp.request' && entry.index > call.index && entry.index < result.index);
    expect(question).toMatchObject({ server: 'everything', payload: { direction: 'server' } });
    expect(call).toMatchObject({ agent: { transport: 'stdio', protocol: '2026-07-28', client: { name: 'stdio-rounds-agent' } } });
  });

  test('its listen brings resources/updated from the server its calls ran on, as a direct client gets it', async () => {
    const uri = 'demo://resource/static/document/features.md';
    const subscription = await agent.client.listen({ resourceSubscriptions: [uri] });
    const before = agent.notifications.length;
    // server-everything notifies subscribed URIs while toggle-subscriber-updates is on (at once, then every 5 s).
    await agent.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    try {
      expect(notificationParams(await nextNotification(agent, 'notifications/resources/updated', before, 3000))).toEqual({ uri });
    } finally {
      await agent.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      await subscription.close();
    }
  });
});

// The stateless revision has no session of its own; on stdio the connection is one.
test('each stdio connection of a 2026-07-28 agent is a session of its own in the log', async () => {
  const db = `file:${join(folder, 'sessions.db')}`;
  const sessions: string[] = [];
  for (const word of ['first', 'second']) {
    const { agent } = await wrappedAgent(db, 'stdio-session-agent');
    try {
      await agent.client.callTool({ name: 'echo', arguments: { message: word } });
    } finally {
      await agent.close();
    }
    const log = await waitForEntries(() => readEntries(db), (all) => all.some((entry) => entry.kind === 'tool.result' && JSON.stringify(entry.payload).includes(word)));
    const call = log.find((entry) => entry.kind === 'tool.call' && JSON.stringify(entry.payload).includes(word))!;
    expect(log.filter((entry) => entry.kind === 'tool.result' && entry.call === call.call)).toEqual([expect.objectContaining({ session: call.session })]);
    // Who started it: the OS user and the client process (this test runner spawned the wrap).
    expect(call.agent).toMatchObject({ transport: 'stdio', user: userInfo().username, parentPid: process.pid });
    expect(call.agent.parentCommand).toContain(process.execPath);
    sessions.push(call.session);
  }
  expect(new Set(sessions).size).toBe(2);
});
