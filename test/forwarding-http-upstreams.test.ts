// Faithful forwarding to upstreams the gateway reaches over the network (issue 2, point 5):
// server-everything over Streamable HTTP and over the legacy HTTP+SSE transport, each behind its
// own `agenttrail serve` as `web`. The direct clients talk to the same server process over the same
// transport, so what differs between the two paths is the gateway alone.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEverythingForwarding } from './fixtures/everything-forwarding-suite.js';
import {
  expectRequestRecorded,
  prefixed,
  recordingHandlers,
  toolsInRevision,
  walkPages,
  clientEntries,
} from './fixtures/forwarding-cases.js';
import type { RecordingHandlers } from './fixtures/forwarding-cases.js';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ConnectedClient } from './support/clients.js';
import { startGateway } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { startEverythingHttp, startEverythingSse } from './support/upstream-servers.js';
import type { RunningHttpServer } from './support/upstream-servers.js';

const TRANSPORTS = [
  { transport: 'streamable-http', client: 'http', start: startEverythingHttp },
  { transport: 'sse', client: 'sse', start: startEverythingSse },
] as const;

describe.each(TRANSPORTS)('server-everything over $transport behind agenttrail serve', ({ transport, client, start }) => {
  let upstream: RunningHttpServer;
  let gateway: RunningGateway;
  const direct = {} as { bare: ConnectedClient; full: ConnectedClient; fullHandlers: RecordingHandlers };

  beforeAll(async () => {
    upstream = await start();
    direct.fullHandlers = recordingHandlers();
    [gateway, direct.bare, direct.full] = await Promise.all([
      startGateway({ web: { url: upstream.url.href, transport } }),
      connectClient({ transport: client, url: upstream.url, revision: '2025-11-25' }),
      connectClient({ transport: client, url: upstream.url, revision: '2025-11-25', handlers: direct.fullHandlers.handlers }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([direct.bare?.close(), direct.full?.close()]);
    await gateway?.stop();
    await upstream?.close();
  });

  describe.each(REVISIONS)('a %s agent', (revision) => {
    const modern = revision === '2026-07-28';
    const clientName = `forwarding-agent-${transport}-${revision}`;
    let agent: ConnectedClient;
    let agentHandlers: RecordingHandlers;
    const directEverything = (): ConnectedClient => (modern ? direct.bare : direct.full);
    const entries = clientEntries(() => gateway.entries(), clientName);

    beforeAll(async () => {
      agentHandlers = recordingHandlers();
      agent = await connectClient({ transport: 'http', url: gateway.url, revision, name: clientName, ...(modern ? {} : { handlers: agentHandlers.handlers }) });
    });
    afterAll(async () => {
      await agent?.close();
    });

    test('tools, prompts, resources and templates are listed as the server lists them, prefixed web__', async () => {
      for (const [method, key] of [
        ['tools/list', 'tools'],
        ['prompts/list', 'prompts'],
        ['resources/list', 'resources'],
        ['resources/templates/list', 'resourceTemplates'],
      ] as const) {
        const pages = await walkPages(agent, method, key);
        const straight = await walkPages(directEverything(), method, key);
        expect(pages.map((page) => page.items), method).toEqual(
          straight.map((page) => prefixed('web', key === 'tools' ? toolsInRevision(revision, page.items) : page.items)),
        );
        expectRequestRecorded(await entries(), { method, outcome: 'ok' });
      }
    });

    testEverythingForwarding({
      revision,
      server: 'web',
      qualify: (name) => `web__${name}`,
      agent: () => agent,
      agentHandlers: () => agentHandlers,
      direct: directEverything,
      // Consulted by the 2025 checks of upstream requests only.
      directHandlers: () => direct.fullHandlers,
      entries });
  });
});
