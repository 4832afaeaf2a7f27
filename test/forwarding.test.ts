// Faithful forwarding through `agenttrail serve` (issue 2, point 5): an agent of either revision
// that reaches several upstreams through one gateway gets what it would get from each server
// directly, names prefixed `<server>__`, and the log holds the entries afterwards.
// Upstreams: server-everything and server-memory (published, stdio) and the recording server in
// test/fixtures (paginated lists, observable cancellation). The published servers speak 2025
// only, so a 2026-07-28 agent through the gateway is compared with a 2025-11-25 client direct.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { testEverythingForwarding } from './fixtures/everything-forwarding-suite.js';
import {
  callAndCancel,
  expectCancelledUpstream,
  expectRequestRecorded,
  expectToolCallRecorded,
  hasToolResult,
  nextNotification,
  notificationParams,
  pagesIfOffered,
  prefixed,
  recordingHandlers,
  recordingServer,
  toolsInRevision,
  walkPages,
  withoutEnvelope,
  clientEntries,
} from './fixtures/forwarding-cases.js';
import type { RecordingHandlers } from './fixtures/forwarding-cases.js';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ClientRevision, ConnectedClient } from './support/clients.js';
import { startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { memoryStdio, startEverythingStdio } from './support/upstream-servers.js';
import type { MemoryLaunch } from './support/upstream-servers.js';


const folder = mkdtempSync(join(tmpdir(), 'agenttrail-forwarding-'));
const gatewayRecord = join(folder, 'through-gateway.jsonl');
let gateway: RunningGateway;
let gatewayMemory: MemoryLaunch;
let directMemoryLaunch: MemoryLaunch;
// Straight to the servers, for comparison.
const direct = {} as {
  everythingBare: ConnectedClient;
  everythingFull: ConnectedClient;
  fullHandlers: RecordingHandlers;
  memory: ConnectedClient;
  fixture: Record<ClientRevision, ConnectedClient>;
};

beforeAll(async () => {
  gatewayMemory = memoryStdio();
  directMemoryLaunch = memoryStdio();
  direct.fullHandlers = recordingHandlers();
  const directRecord = join(folder, 'direct.jsonl');
  [gateway, direct.everythingBare, direct.everythingFull, direct.memory, direct.fixture] = await Promise.all([
    startGateway({
      everything: startEverythingStdio(),
      memory: { command: gatewayMemory.command, args: gatewayMemory.args, env: gatewayMemory.env },
      fixture: recordingServer(gatewayRecord) }),
    connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25' }),
    connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25', handlers: direct.fullHandlers.handlers }),
    connectClient({ transport: 'stdio', server: directMemoryLaunch, revision: '2025-11-25' }),
    Promise.all(REVISIONS.map((revision) => connectClient({ transport: 'stdio', server: recordingServer(directRecord), revision }))).then(
      ([older, newer]) => ({ '2025-11-25': older!, '2026-07-28': newer! }),
    ),
  ]);
});

afterAll(async () => {
  await Promise.all([
    direct.everythingBare?.close(),
    direct.everythingFull?.close(),
    direct.memory?.close(),
    ...Object.values(direct.fixture ?? {}).map((client) => client.close()),
  ]);
  await gateway?.stop();
  gatewayMemory?.removeFiles();
  directMemoryLaunch?.removeFiles();
  rmSync(folder, { recursive: true, force: true });
});

describe.each(REVISIONS)('a %s agent through agenttrail serve (everything, memory, fixture)', (revision) => {
  const clientName = `forwarding-agent-${revision}`;
  const modern = revision === '2026-07-28';
  let agent: ConnectedClient;
  let agentHandlers: RecordingHandlers;
  // A 2025 agent declares elicitation, sampling and roots, and the gateway declares them upstream,
  // so the upstream offers it what it offers the full direct client. A 2026 agent declares nothing
  // (the upstream requests reach that revision as input rounds, which another suite covers).
  const directEverything = (): ConnectedClient => (modern ? direct.everythingBare : direct.everythingFull);
  const entries = clientEntries(() => gateway.entries(), clientName);

  beforeAll(async () => {
    agentHandlers = recordingHandlers();
    agent = await connectClient({ transport: 'http', url: gateway.url, revision, name: clientName, ...(modern ? {} : { handlers: agentHandlers.handlers }) });
  });
  afterAll(async () => {
    await agent?.close();
  });

  test.runIf(!modern)('the session is recorded as it starts, and every entry of the agent carries its id', async () => {
    await agent.client.ping();
    const sessionId = (agent.client.transport as StreamableHTTPClientTransport).sessionId;
    expect(sessionId).toEqual(expect.any(String));
    const log = await entries((all) => all.some((entry) => entry.kind === 'session.start'));
    const starts = log.filter((entry) => entry.kind === 'session.start');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ session: sessionId, agent: { transport: 'http', protocol: '2025-11-25', client: { name: clientName } } });
    expect(new Set(log.map((entry) => entry.session))).toEqual(new Set([sessionId]));
  });

  // server-everything registers the tools a client's capabilities call for as the session starts, and says so.
  test.runIf(!modern)('tools/list_changed that an upstream sends as it registers its tools reaches the agent', async () => {
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'start the upstream' } });
    await directEverything().waitFor((notification) => notification.method === 'notifications/tools/list_changed');
    await agent.waitFor((notification) => notification.method === 'notifications/tools/list_changed');
  });

  test('tools/list: one upstream page per gateway page, walked with explicit cursors, equals the direct pages prefixed', async () => {
    const pages = await walkPages(agent, 'tools/list', 'tools');
    const fixturePages = await walkPages(direct.fixture[revision], 'tools/list', 'tools');
    expect(fixturePages.length, 'the fixture lists its tools on several pages').toBe(3);
    const expectedPages = [
      ...(await walkPages(directEverything(), 'tools/list', 'tools')).map((page) => prefixed('everything', toolsInRevision(revision, page.items))),
      ...(await walkPages(direct.memory, 'tools/list', 'tools')).map((page) => prefixed('memory', toolsInRevision(revision, page.items))),
      ...fixturePages.map((page) => prefixed('fixture', page.items)),
    ];
    expect(pages.map((page) => page.items)).toEqual(expectedPages);
    expect(pages.slice(0, -1).every((page) => typeof page.nextCursor === 'string')).toBe(true);
    expect(pages.at(-1)?.nextCursor).toBeUndefined();
    // The SDK's own walk over the same cursors agrees.
    expect((await agent.client.listTools()).tools).toEqual(expectedPages.flat());
    if (!modern) {
      const names = expectedPages.flat().map((tool) => tool.name);
      for (const tool of ['get-roots-list', 'trigger-elicitation-request', 'trigger-sampling-request']) expect(names).toContain(`everything__${tool}`);
    }
    expect(expectRequestRecorded(await entries(), { method: 'tools/list', outcome: 'ok' }).length).toBeGreaterThanOrEqual(pages.length);
  });

  test('prompts/list, resources/list and resources/templates/list page across the upstreams the same way', async () => {
    for (const [method, key] of [
      ['prompts/list', 'prompts'],
      ['resources/list', 'resources'],
      ['resources/templates/list', 'resourceTemplates'],
    ] as const) {
      const pages = await walkPages(agent, method, key);
      const expected = [
        ...(await pagesIfOffered(directEverything(), method, key)).map((page) => prefixed('everything', page.items)),
        ...(await pagesIfOffered(direct.memory, method, key)).map((page) => prefixed('memory', page.items)),
        ...(await pagesIfOffered(direct.fixture[revision], method, key)).map((page) => prefixed('fixture', page.items)),
      ].filter((items) => items.length > 0);
      expect(pages.map((page) => page.items), method).toEqual(expected);
      expect(pages.at(-1)?.nextCursor).toBeUndefined();
      expectRequestRecorded(await entries(), { method, outcome: 'ok' });
    }
  });

  test('tools/call, prompts/get and resources/read reach the other upstreams by prefix and by URI', async () => {
    const memoryArgs = { query: `nothing-is-called-${revision}` };
    const fixtureArgs = { word: `hello-${revision}` };
    expect(withoutEnvelope(await agent.client.callTool({ name: 'memory__search_nodes', arguments: memoryArgs }))).toEqual(
      await direct.memory.client.callTool({ name: 'search_nodes', arguments: memoryArgs }),
    );
    expect(withoutEnvelope(await agent.client.callTool({ name: 'fixture__alpha', arguments: fixtureArgs }))).toEqual(
      withoutEnvelope(await direct.fixture[revision].client.callTool({ name: 'alpha', arguments: fixtureArgs })),
    );
    const promptArgs = { topic: revision };
    expect(withoutEnvelope(await agent.client.getPrompt({ name: 'fixture__third', arguments: promptArgs }))).toEqual(
      withoutEnvelope(await direct.fixture[revision].client.getPrompt({ name: 'third', arguments: promptArgs })),
    );
    const fixtureDoc = 'fixture://doc/two';
    expect(withoutEnvelope(await agent.client.readResource({ uri: fixtureDoc }))).toEqual(
      withoutEnvelope(await direct.fixture[revision].client.readResource({ uri: fixtureDoc })),
    );
    const log = await entries((all) => hasToolResult(all, 'memory__search_nodes', memoryArgs) && hasToolResult(all, 'fixture__alpha', fixtureArgs));
    expectToolCallRecorded(log, { server: 'memory', tool: 'search_nodes', name: 'memory__search_nodes', args: memoryArgs, outcome: 'ok' });
    expectToolCallRecorded(log, { server: 'fixture', tool: 'alpha', name: 'fixture__alpha', args: fixtureArgs, outcome: 'ok' });
    expectRequestRecorded(log, { method: 'prompts/get', outcome: 'ok', server: 'fixture', tool: 'third', name: 'fixture__third' });
    expectRequestRecorded(log, { method: 'resources/read', outcome: 'ok', server: 'fixture', tool: fixtureDoc });
  });

  test('a resource subscription brings notifications/resources/updated from the upstream to the agent', async () => {
    const uri = 'memory://knowledge-graph';
    const entity = (name: string) => ({ entities: [{ name, entityType: 'test', observations: [] }] });
    const before = direct.memory.notifications.length;
    await direct.memory.client.subscribeResource({ uri });
    await direct.memory.client.callTool({ name: 'create_entities', arguments: entity(`direct-${revision}`) });
    const straight = await nextNotification(direct.memory, 'notifications/resources/updated', before);

    const after = agent.notifications.length;
    // A 2026-07-28 agent subscribes with subscriptions/listen instead of resources/subscribe.
    const subscription = modern ? await agent.client.listen({ resourceSubscriptions: [uri] }) : undefined;
    if (subscription) expect(subscription.honoredFilter.resourceSubscriptions).toEqual([uri]);
    else await agent.client.subscribeResource({ uri });
    try {
      await agent.client.callTool({ name: 'memory__create_entities', arguments: entity(`through-${revision}`) });
      const through = await nextNotification(agent, 'notifications/resources/updated', after, 3000);
      expect(notificationParams(through)).toEqual(notificationParams(straight));
    } finally {
      await subscription?.close();
    }
    if (!modern) expectRequestRecorded(await entries(), { method: 'resources/subscribe', outcome: 'ok', server: 'memory', params: { uri } });
  });

  test('cancellation: the agent gets its abort, the upstream gets notifications/cancelled, the log says cancelled', async () => {
    const args = { word: `cancel-${revision}` };
    const settled = await callAndCancel(agent, 'fixture__wait-for-cancel', args);
    expect('error' in settled ? String(settled.error) : 'the call resolved').toContain('stopped by the test');
    await vi.waitFor(() => expectCancelledUpstream(gatewayRecord, args), { timeout: 3000, interval: 50 });
    const log = await entries((all) => hasToolResult(all, 'fixture__wait-for-cancel', args));
    const { result } = expectToolCallRecorded(log, { server: 'fixture', tool: 'wait-for-cancel', name: 'fixture__wait-for-cancel', args, outcome: 'cancelled' });
    // A reviewer reads that the agent cancelled it, not that the upstream timed out or went away.
    expect(JSON.stringify(result.payload)).toContain('cancelled by the agent');
    // The upstream stays usable.
    expect((await agent.client.callTool({ name: 'fixture__bravo', arguments: { word: 'after' } })).isError).toBeFalsy();
  });

  testEverythingForwarding({
    revision,
    server: 'everything',
    qualify: (name) => `everything__${name}`,
    agent: () => agent,
    agentHandlers: () => agentHandlers,
    direct: directEverything,
    // Consulted by the 2025 checks of upstream requests only.
    directHandlers: () => direct.fullHandlers,
    entries });
});
