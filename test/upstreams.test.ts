// Proves the test-support layer against the published servers DIRECTLY (no gateway): what the
// gateway suites will later compare their "through the gateway" results with.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { CallToolResult, CreateMessageRequest, ElicitRequest } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectClient } from './support/clients.js';
import type { ConnectedClient, ReceivedNotification } from './support/clients.js';
import {
  filesystemStdio,
  memoryStdio,
  startEverythingHttp,
  startEverythingSse,
  startEverythingStdio,
} from './support/upstream-servers.js';
import type { RunningHttpServer } from './support/upstream-servers.js';

// Tools every client sees, in the order server-everything lists them.
const BASE_TOOLS = [
  'echo',
  'get-annotated-message',
  'get-env',
  'get-resource-links',
  'get-resource-reference',
  'get-structured-content',
  'get-sum',
  'get-tiny-image',
  'gzip-file-as-resource',
  'toggle-simulated-logging',
  'toggle-subscriber-updates',
  'trigger-long-running-operation',
  'simulate-research-query',
];

const texts = (result: CallToolResult): string[] =>
  result.content.flatMap((block) => (block.type === 'text' ? [block.text] : []));

const isMethod =
  (method: string) =>
  (n: ReceivedNotification): boolean =>
    n.method === method;

let http: RunningHttpServer;
let sse: RunningHttpServer;
// A client that declares every server-to-client capability and answers them.
let full: ConnectedClient;
// A client that declares nothing.
let bare: ConnectedClient;
const elicitations: ElicitRequest['params'][] = [];
const samplings: CreateMessageRequest['params'][] = [];
let rootsRequests = 0;

beforeAll(async () => {
  [http, sse, full, bare] = await Promise.all([
    startEverythingHttp(),
    startEverythingSse(),
    connectClient({
      transport: 'stdio',
      server: startEverythingStdio(),
      revision: '2025-11-25',
      capabilities: { elicitation: { form: {}, url: {} } },
      handlers: {
        elicitation: (request) => {
          elicitations.push(request.params);
          return request.params.mode === 'url'
            ? { action: 'accept' }
            : { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
        },
        sampling: (request) => {
          samplings.push(request.params);
          return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } };
        },
        roots: () => {
          rootsRequests++;
          return { roots: [{ uri: 'file:///tmp/agenttrail-root', name: 'scratch' }] };
        },
      },
    }),
    connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25' }),
  ]);
});

afterAll(async () => {
  await Promise.all([full?.close(), bare?.close(), http?.close(), sse?.close()]);
});

describe('server-everything over stdio, 2025-11-25 client', () => {
  test('handshake negotiates 2025-11-25 with the everything server', () => {
    expect(full.client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(full.client.getProtocolEra()).toBe('legacy');
    expect(full.client.getServerVersion()).toMatchObject({ name: 'mcp-servers/everything', version: '2.0.0' });
    expect(full.client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      logging: {},
      completions: {},
    });
    expect(full.client.getInstructions()).toContain('Everything Server');
  });

  test('tools/list: capability-gated tools appear only for clients that declare the capability', async () => {
    const bareNames = (await bare.client.listTools()).tools.map((t) => t.name);
    expect(bareNames).toEqual(BASE_TOOLS);

    const fullNames = (await full.client.listTools()).tools.map((t) => t.name);
    expect(fullNames.filter((name) => !BASE_TOOLS.includes(name))).toEqual([
      'get-roots-list',
      'trigger-elicitation-request',
      'trigger-url-elicitation',
      'trigger-sampling-request',
    ]);
  });

  test('conditional tools are registered at initialization, announced by tools/list_changed', async () => {
    const changed = full.notifications.filter(isMethod('notifications/tools/list_changed'));
    expect(changed.length).toBeGreaterThanOrEqual(1);
  });

  test('everything answers the whole list in one page: no nextCursor on tools, resources, prompts', async () => {
    const tools = await full.client.request({ method: 'tools/list', params: {} });
    const resources = await full.client.request({ method: 'resources/list', params: {} });
    const prompts = await full.client.request({ method: 'prompts/list', params: {} });
    expect([tools.nextCursor, resources.nextCursor, prompts.nextCursor]).toEqual([undefined, undefined, undefined]);
    expect([tools.tools.length, resources.resources.length, prompts.prompts.length]).toEqual([17, 7, 4]);
  });

  test('tools/call echo', async () => {
    const result = await full.client.callTool({ name: 'echo', arguments: { message: 'hello gateway' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'Echo: hello gateway' }] });
  });

  test('tools/call get-sum', async () => {
    const result = await full.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } });
    expect(texts(result)).toEqual(['The sum of 2 and 40 is 42.']);
  });

  test('get-structured-content returns structuredContent matching its outputSchema', async () => {
    const listed = (await full.client.listTools()).tools.find((t) => t.name === 'get-structured-content');
    expect(listed?.outputSchema?.required).toEqual(['temperature', 'conditions', 'humidity']);
    const result = await full.client.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
    expect(result.structuredContent).toEqual({ temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
    expect(JSON.parse(texts(result)[0] ?? '')).toEqual(result.structuredContent);
  });

  test('get-tiny-image returns a PNG image block between two text blocks', async () => {
    const result = await full.client.callTool({ name: 'get-tiny-image', arguments: {} });
    expect(result.content.map((block) => block.type)).toEqual(['text', 'image', 'text']);
    const image = result.content[1];
    if (image?.type !== 'image') throw new Error('expected an image block');
    expect(image.mimeType).toBe('image/png');
    expect(Buffer.from(image.data, 'base64').subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
  });

  test('get-resource-reference embeds a resource; get-resource-links returns resource_link blocks', async () => {
    const reference = await full.client.callTool({
      name: 'get-resource-reference',
      arguments: { resourceType: 'Text', resourceId: 3 },
    });
    expect(reference.content[1]).toMatchObject({
      type: 'resource',
      resource: { uri: 'demo://resource/dynamic/text/3', mimeType: 'text/plain' },
    });
    const links = await full.client.callTool({ name: 'get-resource-links', arguments: { count: 2 } });
    expect(links.content.map((block) => block.type)).toEqual(['text', 'resource_link', 'resource_link']);
    expect(links.content[1]).toMatchObject({ uri: 'demo://resource/dynamic/blob/1', name: 'Blob Resource 1' });
  });

  test('tool failures come back as isError results, not protocol errors', async () => {
    const thrownInTool = await full.client.callTool({
      name: 'get-resource-reference',
      arguments: { resourceType: 'Text', resourceId: -1 },
    });
    expect(thrownInTool).toEqual({
      content: [{ type: 'text', text: 'Invalid resourceId: -1. Must be a finite positive integer.' }],
      isError: true,
    });
    const badArguments = await full.client.callTool({ name: 'echo', arguments: {} });
    expect(badArguments.isError).toBe(true);
    expect(texts(badArguments)[0]).toMatch(/^MCP error -32602: Input validation error: Invalid arguments for tool echo/);
    const unknownTool = await full.client.callTool({ name: 'no-such-tool', arguments: {} });
    expect(unknownTool).toEqual({
      content: [{ type: 'text', text: 'MCP error -32602: Tool no-such-tool not found' }],
      isError: true,
    });
  });

  test('trigger-long-running-operation reports progress to onprogress and on the wire', async () => {
    const seen: unknown[] = [];
    const result = await full.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } },
      { onprogress: (progress) => seen.push(progress) },
    );
    expect(texts(result)).toEqual(['Long running operation completed. Duration: 0.4 seconds, Steps: 4.']);
    const onWire = full.notifications
      .filter(isMethod('notifications/progress'))
      .map((n) => n.params)
      .filter((params) => params?.['total'] === 4);
    expect(onWire.map((params) => params?.['progress'])).toEqual([1, 2, 3, 4]);
    // The last notification races the result inside the SDK (notifications are dispatched a
    // microtask later than responses), so onprogress may miss it: compare the first three only.
    expect(seen.slice(0, 3)).toEqual([
      { progress: 1, total: 4 },
      { progress: 2, total: 4 },
      { progress: 3, total: 4 },
    ]);
  });

  test('cancelling through an AbortSignal rejects the call; the server stays usable', async () => {
    const controller = new AbortController();
    const call = full.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
      { signal: controller.signal, onprogress: () => controller.abort(new Error('stopped by the test')) },
    );
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    // SDK 2.4 reports a caller's abort as SdkError REQUEST_TIMEOUT carrying String(reason).
    expect(error).toBeInstanceOf(SdkError);
    expect(error).toMatchObject({ code: SdkErrorCode.RequestTimeout, message: 'Error: stopped by the test' });
    const echo = await full.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    expect(texts(echo)).toEqual(['Echo: still here']);
  });

  test('resources/list lists the static documents; templates/list the two dynamic templates', async () => {
    const { resources } = await full.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(
      ['architecture', 'extension', 'features', 'how-it-works', 'instructions', 'startup', 'structure'].map(
        (name) => `demo://resource/static/document/${name}.md`,
      ),
    );
    expect(resources[0]).toMatchObject({ name: 'architecture.md', mimeType: 'text/markdown' });
    const { resourceTemplates } = await full.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => [t.name, t.uriTemplate, t.mimeType])).toEqual([
      ['Dynamic Text Resource', 'demo://resource/dynamic/text/{resourceId}', 'text/plain'],
      ['Dynamic Blob Resource', 'demo://resource/dynamic/blob/{resourceId}', 'application/octet-stream'],
    ]);
  });

  test('resources/read of a static document, a dynamic text and a dynamic blob resource', async () => {
    const doc = await full.client.readResource({ uri: 'demo://resource/static/document/features.md' });
    expect(doc.contents[0]).toMatchObject({ mimeType: 'text/markdown' });
    expect(doc.contents[0] && 'text' in doc.contents[0] ? doc.contents[0].text : '').toMatch(
      /^# Everything Server - Features/,
    );

    const text = await full.client.readResource({ uri: 'demo://resource/dynamic/text/5' });
    expect(text.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/5', mimeType: 'text/plain' });
    expect(text.contents[0] && 'text' in text.contents[0] ? text.contents[0].text : '').toMatch(
      /^Resource 5: This is a plaintext resource created at /,
    );

    const blob = await full.client.readResource({ uri: 'demo://resource/dynamic/blob/2' });
    const data = blob.contents[0] && 'blob' in blob.contents[0] ? blob.contents[0].blob : '';
    expect(Buffer.from(data, 'base64').toString('utf8')).toMatch(/^Resource 2: This is a base64 blob created at /);
  });

  test('resources/read of an unknown resource is a protocol error', async () => {
    await expect(full.client.readResource({ uri: 'demo://resource/dynamic/text/zero' })).rejects.toThrow(
      /Unknown resource: demo:\/\/resource\/dynamic\/text\/zero/,
    );
  });

  test('resources/subscribe, then toggle-subscriber-updates emits notifications/resources/updated', async () => {
    const uri = 'demo://resource/dynamic/text/1';
    await full.client.subscribeResource({ uri });
    await full.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    try {
      const updated = await full.waitFor((n) => n.method === 'notifications/resources/updated' && n.params?.['uri'] === uri);
      expect(updated.params).toEqual({ uri });
    } finally {
      const stopped = await full.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      expect(texts(stopped)[0]).toMatch(/^Stopped simulated resource updates/);
      await full.client.unsubscribeResource({ uri });
    }
  });

  test('prompts/list and prompts/get', async () => {
    const { prompts } = await full.client.listPrompts();
    expect(prompts.map((p) => [p.name, (p.arguments ?? []).map((a) => `${a.name}${a.required ? '' : '?'}`)])).toEqual([
      ['simple-prompt', []],
      ['args-prompt', ['city', 'state?']],
      ['completable-prompt', ['department', 'name']],
      ['resource-prompt', ['resourceType', 'resourceId']],
    ]);
    const simple = await full.client.getPrompt({ name: 'simple-prompt' });
    expect(simple.messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } },
    ]);
    const withArgs = await full.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } });
    expect(withArgs.messages[0]?.content).toEqual({ type: 'text', text: "What's weather in Paris, TX?" });
    const embedded = await full.client.getPrompt({
      name: 'resource-prompt',
      arguments: { resourceType: 'Blob', resourceId: '2' },
    });
    expect(embedded.messages[1]?.content).toMatchObject({
      type: 'resource',
      resource: { uri: 'demo://resource/dynamic/blob/2' },
    });
  });

  test('completion/complete for prompt arguments (with context) and template variables', async () => {
    const department = await full.client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'S' },
    });
    expect(department.completion.values).toEqual(['Sales', 'Support']);
    const name = await full.client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Engineering' } },
    });
    expect(name.completion).toEqual({ values: ['Alice', 'Bob', 'Charlie'], total: 3, hasMore: false });
    const resourceId = await full.client.complete({
      ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '3' },
    });
    expect(resourceId.completion.values).toEqual(['3']);
  });

  test('logging/setLevel filters the log messages the server sends', async () => {
    const uri = 'demo://resource/dynamic/text/9';
    const subscribeLog = (n: ReceivedNotification): boolean =>
      n.method === 'notifications/message' && String(n.params?.['data']).includes(`Subscribe Resource request for URI: ${uri}`);

    // On stdio the log line is written before the response, so it is recorded once the call returns.
    await full.client.setLoggingLevel('warning');
    await full.client.subscribeResource({ uri });
    expect(full.notifications.filter(subscribeLog)).toEqual([]);

    await full.client.setLoggingLevel('info');
    await full.client.subscribeResource({ uri });
    expect(full.notifications.filter(subscribeLog).map((n) => n.params?.['level'])).toEqual(['info']);
    await full.client.unsubscribeResource({ uri });
  });

  test('toggle-simulated-logging sends a log message at once (then every 5 s)', async () => {
    await full.client.setLoggingLevel('debug');
    const before = full.notifications.length;
    await full.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    try {
      const message = await full.waitFor(
        (n) => n.method === 'notifications/message' && /level[- ]message/i.test(String(n.params?.['data'])),
      );
      expect(full.notifications.indexOf(message)).toBeGreaterThanOrEqual(before);
      expect(message.params?.['level']).toMatch(/^(debug|info|notice|warning|error|critical|alert|emergency)$/);
    } finally {
      await full.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    }
  });

  test('trigger-elicitation-request (form mode) is answered by the client handler', async () => {
    const result = await full.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    const request = elicitations.at(-1);
    expect(request).toMatchObject({
      message: 'Please provide inputs for the following fields:',
      requestedSchema: { type: 'object', required: ['name'] },
    });
    expect(texts(result).slice(0, 2)).toEqual([
      '✅ User provided the requested information!',
      'User inputs:\n- Name: Ada Lovelace\n- Agreed to terms: true\n- Favorite Integer: 7',
    ]);
  });

  test('trigger-url-elicitation (url mode) is answered by the client handler', async () => {
    const result = await full.client.callTool({
      name: 'trigger-url-elicitation',
      arguments: { url: 'https://example.com/consent', elicitationId: 'consent-1' },
    });
    expect(elicitations.at(-1)).toEqual({
      mode: 'url',
      url: 'https://example.com/consent',
      message: 'Please open the link to complete this action.',
      elicitationId: 'consent-1',
    });
    expect(texts(result)[0]).toBe(
      '✅ User completed the URL elicitation flow.\nElicitation ID: consent-1\nURL: https://example.com/consent',
    );
  });

  test('trigger-url-elicitation with errorPath throws -32042 UrlElicitationRequired', async () => {
    const error = await full.client
      .callTool({ name: 'trigger-url-elicitation', arguments: { url: 'https://example.com/login', errorPath: true } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({
      code: -32042,
      data: { elicitations: [{ mode: 'url', url: 'https://modelcontextprotocol.io' }] },
    });
  });

  test('trigger-sampling-request is answered by the client sampling handler', async () => {
    const result = await full.client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'Say hello', maxTokens: 20 },
    });
    expect(samplings.at(-1)).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: 'Resource trigger-sampling-request context: Say hello' } }],
      systemPrompt: 'You are a helpful test server.',
      temperature: 0.7,
      maxTokens: 20,
    });
    expect(texts(result)[0]).toMatch(/^LLM sampling result: /);
    expect(JSON.parse((texts(result)[0] ?? '').replace(/^LLM sampling result: \n/, ''))).toEqual({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: 'sampled answer' },
    });
  });

  test('the server asks for roots after initialization; get-roots-list shows them', async () => {
    // server-everything requests roots/list 350 ms after initialization and logs the count.
    await full.waitFor(
      (n) => n.method === 'notifications/message' && n.params?.['data'] === 'Roots updated: 1 root(s) received from client',
    );
    expect(rootsRequests).toBeGreaterThanOrEqual(1);
    const result = await full.client.callTool({ name: 'get-roots-list', arguments: {} });
    expect(texts(result)[0]).toMatch(/^Current MCP Roots \(1 total\):\n\n1\. scratch\n {3}URI: file:\/\/\/tmp\/agenttrail-root/);
  });

  test('simulate-research-query requires task augmentation: a plain call is an isError result', async () => {
    const listed = (await full.client.listTools()).tools.find((t) => t.name === 'simulate-research-query');
    expect(listed?.execution).toEqual({ taskSupport: 'required' });
    const result = await full.client.callTool({ name: 'simulate-research-query', arguments: { topic: 'x' } });
    expect(result.isError).toBe(true);
    expect(texts(result)[0]).toMatch(/requires task augmentation/);
  });
});

describe.each(['http', 'sse'] as const)('server-everything over %s, 2025-11-25 client', (transport) => {
  let connected: ConnectedClient;
  const asked: string[] = [];

  beforeAll(async () => {
    connected = await connectClient({
      transport,
      url: (transport === 'http' ? http : sse).url,
      revision: '2025-11-25',
      handlers: {
        elicitation: (request) => {
          asked.push(request.params.message);
          return { action: 'decline' };
        },
      },
    });
  });
  afterAll(async () => {
    await connected?.close();
  });

  test('handshake, tools/list and tools/call echo', async () => {
    expect(connected.client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    const names = (await connected.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual([...BASE_TOOLS.slice(0, -1), 'trigger-elicitation-request', 'simulate-research-query']);
    const result = await connected.client.callTool({ name: 'echo', arguments: { message: `over ${transport}` } });
    expect(result).toEqual({ content: [{ type: 'text', text: `Echo: over ${transport}` }] });
  });

  test('progress notifications arrive', async () => {
    await connected.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } },
      { onprogress: () => undefined },
    );
    const progress = await connected.waitFor(
      (n) => n.method === 'notifications/progress' && n.params?.['progress'] === 2 && n.params['total'] === 2,
    );
    expect(progress.params).toMatchObject({ progress: 2, total: 2 });
  });

  test('a server-to-client elicitation request reaches the client handler', async () => {
    const result = await connected.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    expect(asked).toEqual(['Please provide inputs for the following fields:']);
    expect(texts(result)[0]).toBe('❌ User declined to provide the requested information.');
  });
});

describe('a 2026-07-28 client against the 2025-only published server', () => {
  const targets = () =>
    [
      { transport: 'stdio', server: startEverythingStdio() },
      { transport: 'http', url: http.url },
      { transport: 'sse', url: sse.url },
    ] as const;

  test.each([0, 1, 2])('pinned to 2026-07-28 fails to connect with ERA_NEGOTIATION_FAILED (target %i)', async (index) => {
    const target = targets()[index];
    if (target === undefined) throw new Error('no such target');
    const error = await connectClient({ ...target, revision: '2026-07-28' }).then(
      async (connected) => {
        await connected.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SdkError);
    expect(error).toMatchObject({ code: SdkErrorCode.EraNegotiationFailed });
    expect(String((error as Error).message)).toMatch(/did not offer pinned protocol version 2026-07-28/);
  });

  test.each([0, 1, 2])("mode 'auto' falls back to the 2025-11-25 initialize handshake (target %i)", async (index) => {
    const target = targets()[index];
    if (target === undefined) throw new Error('no such target');
    const connected = await connectClient({ ...target, revision: 'auto' });
    try {
      expect(connected.client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
      expect(connected.client.getProtocolEra()).toBe('legacy');
      const result = await connected.client.callTool({ name: 'echo', arguments: { message: 'auto' } });
      expect(texts(result)).toEqual(['Echo: auto']);
    } finally {
      await connected.close();
    }
  });
});

describe('server-filesystem and server-memory launch descriptions', () => {
  test('filesystem serves the allowed directory it was started with', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agenttrail-fs-')));
    writeFileSync(join(dir, 'note.txt'), 'first line\nsecond line\n');
    const connected = await connectClient({ transport: 'stdio', server: filesystemStdio(dir), revision: '2025-11-25' });
    try {
      const read = await connected.client.callTool({ name: 'read_text_file', arguments: { path: join(dir, 'note.txt') } });
      expect(read.structuredContent).toEqual({ content: 'first line\nsecond line\n' });
      const outside = await connected.client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
      expect(outside.isError).toBe(true);
      expect(texts(outside)[0]).toMatch(/Access denied - path outside allowed directories/);
    } finally {
      await connected.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('filesystem replaces its directories with the roots of a client that declares roots', async () => {
    const started = realpathSync(mkdtempSync(join(tmpdir(), 'agenttrail-fs-arg-')));
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'agenttrail-fs-root-')));
    const connected = await connectClient({
      transport: 'stdio',
      server: filesystemStdio(started),
      revision: '2025-11-25',
      handlers: { roots: () => ({ roots: [{ uri: `file://${root}`, name: 'root' }] }) },
    });
    try {
      // The server asks for roots after initialization, without telling the client when it is done.
      let allowed = '';
      for (const deadline = Date.now() + 5_000; Date.now() < deadline && !allowed.includes(root); ) {
        const result = await connected.client.callTool({ name: 'list_allowed_directories', arguments: {} });
        allowed = texts(result).join('\n');
        if (!allowed.includes(root)) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(allowed).toBe(`Allowed directories:\n${root}`);
    } finally {
      await connected.close();
      rmSync(started, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('memory persists its graph in MEMORY_FILE_PATH and notifies subscribers of changes', async () => {
    const launch = memoryStdio();
    const connected = await connectClient({ transport: 'stdio', server: launch, revision: '2025-11-25' });
    try {
      const { resources } = await connected.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['memory://knowledge-graph']);
      await connected.client.subscribeResource({ uri: 'memory://knowledge-graph' });

      const entity = { name: 'Ada', entityType: 'person', observations: ['wrote the first program'] };
      const created = await connected.client.callTool({ name: 'create_entities', arguments: { entities: [entity] } });
      expect(created.structuredContent).toEqual({ entities: [entity] });
      expect(JSON.parse(readFileSync(launch.memoryFilePath, 'utf8'))).toEqual({ type: 'entity', ...entity });
      const updated = await connected.waitFor(isMethod('notifications/resources/updated'));
      expect(updated.params).toEqual({ uri: 'memory://knowledge-graph' });
    } finally {
      await connected.close();
      launch.removeFiles();
    }
  });
});
