// Faithful forwarding through `agenttrail wrap -- <server>` (issue 2, point 5): the wrapped server
// keeps its own names, and an agent of either revision gets what it would get from the server
// directly; the log holds the entries afterwards. server-everything is wrapped for the
// capabilities, the recording server in test/fixtures for pagination and cancellation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { testEverythingForwarding } from './fixtures/everything-forwarding-suite.js';
import {
  callAndCancel,
  expectCancelledUpstream,
  expectRequestRecorded,
  expectToolCallRecorded,
  hasToolResult,
  nextNotification,
  notificationParams,
  recordingHandlers,
  recordingServer,
  toolsInRevision,
  walkPages,
  withoutEnvelope,
} from './fixtures/forwarding-cases.js';
import type { RecordingHandlers } from './fixtures/forwarding-cases.js';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ClientRevision, ConnectedClient } from './support/clients.js';
import { readEntries, waitForEntries, wrapLaunch } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const LISTS = [
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
] as const;

const folder = mkdtempSync(join(tmpdir(), 'agenttrail-forwarding-wrap-'));
// Straight to the servers, for comparison.
const direct = {} as {
  everythingBare: ConnectedClient;
  everythingFull: ConnectedClient;
  fullHandlers: RecordingHandlers;
  fixture: Record<ClientRevision, ConnectedClient>;
};

beforeAll(async () => {
  direct.fullHandlers = recordingHandlers();
  const directRecord = join(folder, 'direct.jsonl');
  [direct.everythingBare, direct.everythingFull, direct.fixture] = await Promise.all([
    connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25' }),
    connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25', handlers: direct.fullHandlers.handlers }),
    Promise.all(REVISIONS.map((revision) => connectClient({ transport: 'stdio', server: recordingServer(directRecord), revision }))).then(
      ([older, newer]) => ({ '2025-11-25': older!, '2026-07-28': newer! }),
    ),
  ]);
});

afterAll(async () => {
  await Promise.all([direct.everythingBare?.close(), direct.everythingFull?.close(), ...Object.values(direct.fixture ?? {}).map((client) => client.close())]);
  rmSync(folder, { recursive: true, force: true });
});

describe.each(REVISIONS)('a %s agent through agenttrail wrap -- server-everything', (revision) => {
  const modern = revision === '2026-07-28';
  const clientName = `wrapped-agent-${revision}`;
  // One wrap process per agent, each with its own log: every entry in it is this agent's.
  const db = `file:${join(folder, `everything-${revision}.db`)}`;
  let agent: ConnectedClient;
  let agentHandlers: RecordingHandlers;
  const directEverything = (): ConnectedClient => (modern ? direct.everythingBare : direct.everythingFull);
  const entries = (until?: (entries: Entry[]) => boolean): Promise<Entry[]> =>
    until === undefined ? readEntries(db) : waitForEntries(() => readEntries(db), until);

  beforeAll(async () => {
    agentHandlers = recordingHandlers();
    agent = await connectClient({
      transport: 'stdio',
      server: wrapLaunch(startEverythingStdio(), db, ['--name', 'everything']),
      revision,
      name: clientName,
      ...(modern ? {} : { handlers: agentHandlers.handlers }),
    });
  });
  afterAll(async () => {
    await agent?.close();
  });

  test.runIf(!modern)('the session is recorded as it starts, and every entry carries it', async () => {
    await agent.client.ping();
    const log = await entries((all) => all.some((entry) => entry.kind === 'session.start'));
    const starts = log.filter((entry) => entry.kind === 'session.start');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ agent: { transport: 'stdio', protocol: '2025-11-25', client: { name: clientName } } });
    expect(new Set(log.map((entry) => entry.session))).toEqual(new Set([starts[0]!.session]));
  });

  // server-everything registers the tools a client's capabilities call for as the session starts, and
  // says so. The wrapped server starts with the agent's first request, which this is for a 2026-07-28
  // agent: it hears list_changed on a subscriptions/listen stream opened before.
  test('tools/list_changed that the server sends as it registers its tools reaches the agent', async () => {
    const subscription = modern ? await agent.client.listen({ toolsListChanged: true }) : undefined;
    try {
      await agent.client.callTool({ name: 'echo', arguments: { message: 'start the server' } });
      await directEverything().waitFor((notification) => notification.method === 'notifications/tools/list_changed');
      await agent.waitFor((notification) => notification.method === 'notifications/tools/list_changed');
    } finally {
      await subscription?.close();
    }
  });

  test('tools, prompts, resources and resource templates are listed exactly as the server lists them, unprefixed', async () => {
    for (const [method, key] of LISTS) {
      const pages = await walkPages(agent, method, key);
      const straight = await walkPages(directEverything(), method, key);
      const expected = straight.map((page) => (key === 'tools' ? toolsInRevision(revision, page.items) : page.items));
      expect(pages.map((page) => page.items), method).toEqual(expected);
      expect(pages.map((page) => page.nextCursor === undefined), method).toEqual(straight.map((page) => page.nextCursor === undefined));
      expectRequestRecorded(await entries(), { method, outcome: 'ok' });
    }
  });

  test('a resource subscription brings the server’s notifications/resources/updated to the agent', async () => {
    const uri = 'demo://resource/static/document/features.md';
    // server-everything sends updates for subscribed URIs while toggle-subscriber-updates is on:
    // one round at once, then every 5 s until it is toggled off again.
    const updated = async (client: ConnectedClient, subscribe: () => Promise<unknown>, toggle: string) => {
      const before = client.notifications.length;
      await subscribe();
      await client.client.callTool({ name: toggle, arguments: {} });
      try {
        return notificationParams(await nextNotification(client, 'notifications/resources/updated', before, 3000));
      } finally {
        await client.client.callTool({ name: toggle, arguments: {} });
      }
    };
    const straight = await updated(directEverything(), () => directEverything().client.subscribeResource({ uri }), 'toggle-subscriber-updates');
    expect(straight).toEqual({ uri });
    // A 2026-07-28 agent subscribes with subscriptions/listen instead of resources/subscribe.
    let subscription: Awaited<ReturnType<ConnectedClient['client']['listen']>> | undefined;
    const subscribe = modern
      ? async () => {
          subscription = await agent.client.listen({ resourceSubscriptions: [uri] });
          expect(subscription.honoredFilter.resourceSubscriptions).toEqual([uri]);
        }
      : () => agent.client.subscribeResource({ uri });
    try {
      expect(await updated(agent, subscribe, 'toggle-subscriber-updates')).toEqual(straight);
    } finally {
      await subscription?.close();
    }
    if (!modern) expectRequestRecorded(await entries(), { method: 'resources/subscribe', outcome: 'ok', server: 'everything', params: { uri } });
  });

  testEverythingForwarding({
    revision,
    server: 'everything',
    qualify: (name) => name,
    agent: () => agent,
    agentHandlers: () => agentHandlers,
    direct: directEverything,
    // Consulted by the 2025 checks of upstream requests only.
    directHandlers: () => direct.fullHandlers,
    entries,
  });
});

describe.each(REVISIONS)('a %s agent through agenttrail wrap -- the recording server', (revision) => {
  const db = `file:${join(folder, `fixture-${revision}.db`)}`;
  const record = join(folder, `through-wrap-${revision}.jsonl`);
  let agent: ConnectedClient;

  beforeAll(async () => {
    agent = await connectClient({ transport: 'stdio', server: wrapLaunch(recordingServer(record), db, ['--name', 'fixture']), revision });
  });
  afterAll(async () => {
    await agent?.close();
  });

  test('paginated lists come page by page as the server pages them', async () => {
    for (const [method, key] of LISTS) {
      const pages = await walkPages(agent, method, key);
      const straight = await walkPages(direct.fixture[revision], method, key);
      expect(pages.map((page) => page.items), method).toEqual(straight.map((page) => page.items));
      expect(pages.map((page) => page.nextCursor === undefined), method).toEqual(straight.map((page) => page.nextCursor === undefined));
    }
    expect((await walkPages(agent, 'tools/list', 'tools')).length, 'the recording server pages its tools').toBe(3);
    expect((await agent.client.listTools()).tools).toEqual((await direct.fixture[revision].client.listTools()).tools);
  });

  test('cancellation: the agent gets its abort, the server gets notifications/cancelled, the log says cancelled', async () => {
    const args = { word: `cancel-${revision}` };
    const settled = await callAndCancel(agent, 'wait-for-cancel', args);
    expect('error' in settled ? String(settled.error) : 'the call resolved').toContain('stopped by the test');
    await vi.waitFor(() => expectCancelledUpstream(record, args), { timeout: 3000, interval: 50 });
    const log = await waitForEntries(() => readEntries(db), (all) => hasToolResult(all, 'wait-for-cancel', args));
    const { result } = expectToolCallRecorded(log, { server: 'fixture', tool: 'wait-for-cancel', name: 'wait-for-cancel', args, outcome: 'cancelled' });
    // A reviewer reads that the agent cancelled it, not that the upstream timed out or went away.
    expect(JSON.stringify(result.payload)).toContain('cancelled by the agent');
    const after = { word: 'after the cancellation' };
    expect(withoutEnvelope(await agent.client.callTool({ name: 'bravo', arguments: after }))).toEqual(
      withoutEnvelope(await direct.fixture[revision].client.callTool({ name: 'bravo', arguments: after })),
    );
  });
});
