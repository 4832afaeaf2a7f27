// Notifications that belong to no call (issue 2, point 5), through `agenttrail serve`:
// - a 2025-11-25 agent gets them on its GET stream even when they arrive before it opened that
//   stream, or while it is reconnecting (it resumes with Last-Event-ID); what a session keeps for it
//   is bounded;
// - a 2026-07-28 upstream sends list changes and resource updates only on a subscriptions/listen
//   stream: the gateway opens one, and agents of both revisions get them.
// Upstream: test/fixtures/changing-server.mjs (the SDK's own server, both revisions, over stdio).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult, FetchLike } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { SESSION_EVENTS_KEPT } from '../src/http/session-event-store.js';
import { connectClient } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import type { StdioLaunch } from './support/upstream-servers.js';

const WATCHED = 'test://changing/watched';

function changingServer(): StdioLaunch {
  return { command: process.execPath, args: [join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'changing-server.mjs')] };
}

/**
 * Stands between an agent and the network: holds its GET requests (its standalone stream) while
 * `held`, records their headers, and can cut the stream that is open, as a flaky network would.
 */
class GetStreamNetwork {
  readonly gets: Headers[] = [];
  #opened: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;
  #cut: () => void = () => undefined;

  hold(): void {
    this.#opened = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#release();
  }

  cut(): void {
    this.#cut();
  }

  readonly fetch: FetchLike = async (url, init) => {
    if ((init?.method ?? 'GET') !== 'GET') return fetch(url, init);
    this.gets.push(new Headers(init?.headers));
    await this.#opened;
    const response = await fetch(url, init);
    return response.body ? new Response(this.cuttable(response.body), response) : response;
  };

  private cuttable(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#cut = () => {
          controller.error(new TypeError('the test cut the connection'));
          void reader.cancel().catch(() => undefined);
        };
      },
      pull: async (controller) => {
        const { done, value } = await reader.read();
        try {
          if (done) controller.close();
          else controller.enqueue(value);
        } catch {
          // Cut meanwhile.
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }
}

/** The data of the log messages an agent received from `label` batches, in arrival order. */
function logged(agent: ConnectedClient, label: string): string[] {
  return agent.notifications
    .filter((notification) => notification.method === 'notifications/message')
    .map((notification) => String(notification.params?.data).replace(/\.+$/, ''))
    .filter((data) => data.startsWith(`${label} `));
}

const numbers = (data: string[]) => data.map((text) => Number(text.split(' ')[1]));

async function call(agent: ConnectedClient, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = (await agent.client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return first?.type === 'text' ? first.text : JSON.stringify(result);
}

describe('a 2025-11-25 agent over HTTP gets what arrived outside its GET stream', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway({ changing: changingServer() });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function agentBehind(network: GetStreamNetwork): Promise<ConnectedClient> {
    return connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', fetch: network.fetch });
  }

  test('log messages sent before the agent opened its GET stream arrive when it opens', async () => {
    const network = new GetStreamNetwork();
    network.hold();
    const agent = await agentBehind(network);
    try {
      await vi.waitFor(() => expect(network.gets).toHaveLength(1));
      await call(agent, 'changing__log', { label: 'early', count: 2 });
      expect(logged(agent, 'early')).toEqual([]);
      network.release();
      await vi.waitFor(() => expect(logged(agent, 'early')).toEqual(['early 1', 'early 2']), { timeout: 5000 });
    } finally {
      network.release();
      await agent.close();
    }
  });

  test('after its GET stream broke, the agent resumes with Last-Event-ID and gets what it missed, once', async () => {
    const network = new GetStreamNetwork();
    const agent = await agentBehind(network);
    try {
      await vi.waitFor(() => expect(network.gets).toHaveLength(1));
      await call(agent, 'changing__log', { label: 'steady', count: 1 });
      await vi.waitFor(() => expect(logged(agent, 'steady')).toEqual(['steady 1']));

      network.hold();
      network.cut();
      // The SDK client reconnects on its own, after a second or so.
      await vi.waitFor(() => expect(network.gets).toHaveLength(2), { timeout: 10_000 });
      await call(agent, 'changing__log', { label: 'missed', count: 3 });
      network.release();

      await vi.waitFor(() => expect(logged(agent, 'missed')).toEqual(['missed 1', 'missed 2', 'missed 3']), { timeout: 5000 });
      expect(logged(agent, 'steady')).toEqual(['steady 1']);
      expect(network.gets[1]!.get('last-event-id')).toMatch(/\S/);
    } finally {
      network.release();
      await agent.close();
    }
  });

  test(`a session keeps at most ${SESSION_EVENTS_KEPT.messages} messages for its GET stream, the newest`, async () => {
    const network = new GetStreamNetwork();
    network.hold();
    const agent = await agentBehind(network);
    const sent = SESSION_EVENTS_KEPT.messages + 50;
    try {
      await vi.waitFor(() => expect(network.gets).toHaveLength(1));
      await call(agent, 'changing__log', { label: 'burst', count: sent });
      network.release();
      await vi.waitFor(() => expect(logged(agent, 'burst').at(-1)).toBe(`burst ${sent}`), { timeout: 10_000 });

      const received = numbers(logged(agent, 'burst'));
      // The session's other messages (the call's answers) share the budget.
      expect(received.length).toBeLessThanOrEqual(SESSION_EVENTS_KEPT.messages);
      expect(received.length).toBeGreaterThan(SESSION_EVENTS_KEPT.messages - 10);
      expect(received).toEqual(received.map((_, index) => sent - received.length + 1 + index));
    } finally {
      network.release();
      await agent.close();
    }
  });

  test(`a session keeps at most ${SESSION_EVENTS_KEPT.characters} characters of messages for its GET stream, the newest`, async () => {
    const network = new GetStreamNetwork();
    network.hold();
    const agent = await agentBehind(network);
    const size = 100_000;
    const sent = 20;
    try {
      await vi.waitFor(() => expect(network.gets).toHaveLength(1));
      await call(agent, 'changing__log', { label: 'large', count: sent, size });
      network.release();
      await vi.waitFor(() => expect(logged(agent, 'large').at(-1)).toBe(`large ${sent}`), { timeout: 10_000 });

      const received = numbers(logged(agent, 'large'));
      expect(received.length).toBeLessThanOrEqual(Math.floor(SESSION_EVENTS_KEPT.characters / size));
      expect(received).toEqual(received.map((_, index) => sent - received.length + 1 + index));
    } finally {
      network.release();
      await agent.close();
    }
  });
});

describe('change notifications of a 2026-07-28 upstream', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway({ changing: { ...changingServer(), protocol: '2026-07-28' } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** Changes all four kinds, then waits for each to reach the agent. */
  async function expectChangesReach(agent: ConnectedClient, suffix: string): Promise<void> {
    await call(agent, 'changing__add_tool', { name: `tool-${suffix}` });
    await agent.waitFor((n) => n.method === 'notifications/tools/list_changed');
    expect((await agent.client.listTools()).tools.map((tool) => tool.name)).toContain(`changing__tool-${suffix}`);

    await call(agent, 'changing__add_prompt', { name: `prompt-${suffix}` });
    await agent.waitFor((n) => n.method === 'notifications/prompts/list_changed');

    await call(agent, 'changing__add_resource', { name: `resource-${suffix}` });
    await agent.waitFor((n) => n.method === 'notifications/resources/list_changed');

    const unwatched = `test://changing/resource-${suffix}`;
    await call(agent, 'changing__touch', { uri: unwatched });
    await call(agent, 'changing__touch', { uri: WATCHED });
    await agent.waitFor((n) => n.method === 'notifications/resources/updated' && n.params?.uri === WATCHED);
    // Sent first, it would have arrived first.
    expect(agent.notifications.filter((n) => n.method === 'notifications/resources/updated' && n.params?.uri === unwatched)).toEqual([]);
  }

  test('reach a 2026-07-28 agent on its own subscriptions/listen stream', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' });
    try {
      const wanted = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true, resourceSubscriptions: [WATCHED] };
      const subscription = await agent.client.listen(wanted);
      expect(subscription.honoredFilter).toEqual(wanted);
      expect(await call(agent, 'changing__era')).toBe('modern');
      await expectChangesReach(agent, 'for-2026');
      await subscription.close();
    } finally {
      await agent.close();
    }
  });

  test('still reach a 2026-07-28 agent after the upstream was restarted', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28' });
    try {
      const subscription = await agent.client.listen({ toolsListChanged: true });
      const toolListChanges = () => agent.notifications.filter((n) => n.method === 'notifications/tools/list_changed').length;
      await call(agent, 'changing__add_tool', { name: 'tool-before-restart' });
      await vi.waitFor(() => expect(toolListChanges()).toBe(1));
      await expect(call(agent, 'changing__exit')).rejects.toThrow();
      await call(agent, 'changing__add_tool', { name: 'tool-after-restart' });
      await vi.waitFor(() => expect(toolListChanges()).toBe(2), { timeout: 5000 });
      await subscription.close();
    } finally {
      await agent.close();
    }
  });

  test('reach a 2025-11-25 agent as notifications on its session', async () => {
    const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25' });
    try {
      await agent.client.subscribeResource({ uri: WATCHED });
      await expectChangesReach(agent, 'for-2025');
    } finally {
      await agent.close();
    }
  });
});
