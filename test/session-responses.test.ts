import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';

/**
 * What a 2025-11-25 agent receives on the wire for a call: one JSON body when the answer comes
 * quickly and alone, an SSE stream (resumable from its first event's id) when the call sends
 * progress first or takes longer than JSON_ANSWER_WINDOW_MS (a second).
 */

const PROTOCOL = '2025-11-25';
const SLOW_TOOL = 'everything__trigger-long-running-operation';

interface SseEvent {
  id?: string;
  data: string;
}

let gateway: RunningGateway;
beforeAll(async () => {
  gateway = await startGateway({ everything: startEverythingStdio() });
});
afterAll(async () => {
  await gateway?.stop();
});

function headers(session?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': PROTOCOL,
    ...(session === undefined ? {} : { 'mcp-session-id': session }),
    ...extra,
  };
}

async function openSession(): Promise<string> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'wire-test', version: '1.0.0' } },
    }),
  });
  expect(response.status).toBe(200);
  const session = response.headers.get('mcp-session-id');
  expect(session).toBeTruthy();
  await response.body?.cancel();
  const initialized = await fetch(gateway.url, {
    method: 'POST',
    headers: headers(session!),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(initialized.status).toBe(202);
  return session!;
}

function callTool(session: string, id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(gateway.url, {
    method: 'POST',
    headers: headers(session),
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } }),
    ...(signal ? { signal } : {}),
  });
}

/** Reads SSE events until `enough` says so (or the stream ends). */
async function readEvents(body: ReadableStream<Uint8Array>, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  try {
    while (!enough(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event: SseEvent = { data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) event.id = line.slice(4);
          if (line.startsWith('data: ')) event.data += line.slice(6);
        }
        events.push(event);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

const messages = (events: SseEvent[]) => events.filter((event) => event.data !== '').map((event) => JSON.parse(event.data));

describe('how a 2025-11-25 session answers a call', () => {
  test('a quick answer comes as one JSON body', async () => {
    const session = await openSession();
    // The session's first call also starts its upstream.
    await (await callTool(session, 0, 'everything__echo', { message: 'warm-up' })).body?.cancel();
    const response = await callTool(session, 1, 'everything__echo', { message: 'quick' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('mcp-session-id')).toBe(session);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'Echo: quick' }] } });
  });

  test('a call that reports progress streams it before its answer, from an event the agent can resume after', async () => {
    const session = await openSession();
    const response = await callTool(session, 2, SLOW_TOOL, { duration: 0.3, steps: 3 }, { progressToken: 'p-1' });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(response.body!, (seen) => messages(seen).some((message) => message.id === 2));
    expect(events[0]).toMatchObject({ data: '' });
    expect(events[0]!.id).toBeTruthy();
    const received = messages(events);
    expect(received.map((message) => message.method ?? `answer ${message.id}`)).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
      'answer 2',
    ]);
    expect(received.slice(0, 3).map((message) => message.params.progress)).toEqual([1, 2, 3]);
    expect(received[3].result.content[0].text).toMatch(/Long running operation completed/);
  });

  test('a call slower than a second gets a stream while it runs; an agent that lost it resumes with Last-Event-ID and gets the answer', async () => {
    const session = await openSession();
    const connection = new AbortController();
    const response = await callTool(session, 3, SLOW_TOOL, { duration: 1.5, steps: 1 }, undefined, connection.signal);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const [opening] = await readEvents(response.body!, (seen) => seen.length >= 1);
    expect(opening).toMatchObject({ data: '' });
    connection.abort();

    // Until the gateway has seen the connection go, the stream counts as taken (409): a client retries.
    let resumed: Response;
    for (let attempt = 0; ; attempt++) {
      resumed = await fetch(gateway.url, { method: 'GET', headers: headers(session, { 'last-event-id': opening!.id! }) });
      if (resumed.status !== 409 || attempt === 40) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(resumed.status).toBe(200);
    const events = await readEvents(resumed.body!, (seen) => messages(seen).some((message) => message.id === 3));
    expect(messages(events)).toEqual([
      expect.objectContaining({ id: 3, result: expect.objectContaining({ content: [expect.objectContaining({ text: expect.stringMatching(/completed/) })] }) }),
    ]);
  });

  test('a batch of quick calls is answered with one JSON array, in the order asked', async () => {
    const session = await openSession();
    await (await callTool(session, 0, 'everything__echo', { message: 'warm-up' })).body?.cancel();
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: headers(session),
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'second' } } },
        { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'first' } } },
      ]),
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const answers = (await response.json()) as { id: string; result: { content: { text: string }[] } }[];
    expect(answers.map((answer) => [answer.id, answer.result.content[0]!.text])).toEqual([
      ['b', 'Echo: second'],
      ['a', 'Echo: first'],
    ]);
  });
});
