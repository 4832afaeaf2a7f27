// A 2026-07-28 agent through `agenttrail serve` to upstreams that speak 2026-07-28 themselves
// (`protocol: 2026-07-28`): the upstream's input_required rounds reach the agent as the upstream wrote
// them (its own keys, several questions at once), the agent's answers and the upstream's own
// requestState go back up verbatim, and an upstream's -32021 reaches the agent with its code. The
// gateway seals each requestState to the upstream call that issued it, so it goes nowhere else.
// Upstreams: two instances of test/fixtures/rounds-server.mjs, each recording what reaches its stdin.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Entry } from '../src/ledger/entry.js';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { postModernToolCall } from './support/modern-requests.js';
import type { StdioLaunch } from './support/upstream-servers.js';

const folder = mkdtempSync(join(tmpdir(), 'agenttrail-passthrough-'));
const travelRecord = join(folder, 'travel.jsonl');
const backupRecord = join(folder, 'backup.jsonl');

const ANSWERS = {
  destination: { action: 'accept', content: { city: 'Lisbon' } },
  budget_advice: { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'about 900 EUR' } },
  workspace: { roots: [{ uri: 'file:///trips', name: 'trips' }] },
};
const PLAN = 'Trip to Lisbon (advice: about 900 EUR; 1 workspace root(s))';
const EVERY_CAPABILITY = { elicitation: {}, sampling: {}, roots: {} };

describe('a 2026-07-28 agent answers a 2026-07-28 upstream’s own input requests through the gateway', () => {
  let gateway: RunningGateway;
  let agent: ConnectedClient;

  beforeAll(async () => {
    gateway = await startGateway({
      travel: { ...roundsServer(travelRecord), protocol: '2026-07-28' },
      backup: { ...roundsServer(backupRecord), protocol: '2026-07-28' },
    });
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', name: 'passthrough-agent', capabilities: EVERY_CAPABILITY });
  });
  afterAll(async () => {
    await agent?.close();
    await gateway?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  test('the upstream’s questions arrive together under its own keys, and its answer comes back', async () => {
    const first = await ask(agent.client, 'travel__plan_trip');
    expect(first.resultType).toBe('input_required');
    expect(first.inputRequests).toEqual({
      destination: {
        method: 'elicitation/create',
        params: { message: 'Where to?', mode: 'form', requestedSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      },
      budget_advice: {
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: 'How much should a trip cost?' } }], maxTokens: 40 },
      },
      workspace: { method: 'roots/list' },
    });
    expect(first.requestState).toEqual(expect.any(String));

    const final = await ask(agent.client, 'travel__plan_trip', { inputResponses: ANSWERS, requestState: first.requestState });
    expect(final.content).toEqual([{ type: 'text', text: PLAN }]);

    // Upstream, the agent's capabilities came with each round, and the retry carried the answers and
    // the upstream's own state (not the gateway's seal around it).
    const [round1, round2] = toolCalls(travelRecord, 'plan_trip');
    expect(round1?.params._meta?.['io.modelcontextprotocol/clientCapabilities']).toEqual(EVERY_CAPABILITY);
    expect(round1?.params).not.toHaveProperty('requestState');
    expect(round2?.params.inputResponses).toEqual(ANSWERS);
    expect(round2?.params.requestState).toBe('plan_trip/awaiting-three-answers');
    expect(first.requestState).not.toBe('plan_trip/awaiting-three-answers');
  });

  test('each round is an exchange of its own in the log: the questions asked, then the answers given', async () => {
    const first = await ask(agent.client, 'travel__plan_trip');
    await ask(agent.client, 'travel__plan_trip', { inputResponses: ANSWERS, requestState: first.requestState });
    const entries = await waitForEntries(gateway.entries, (all) => exchanges(all, 'travel__plan_trip').filter((e) => e.result).length >= 4);
    const [asked, answered] = exchanges(entries, 'travel__plan_trip').slice(-2);

    expect(asked?.request).toMatchObject({ kind: 'tool.call', server: 'travel', tool: 'plan_trip', agent: { client: { name: 'passthrough-agent' } } });
    expect(asked?.result).toMatchObject({ kind: 'tool.result', outcome: 'ok', payload: { result: { resultType: 'input_required' } } });
    // (The log keeps canonical JSON, whose keys are sorted.)
    expect(Object.keys(resultOf(asked?.result).inputRequests as object).sort()).toEqual(['budget_advice', 'destination', 'workspace']);

    expect(asked!.result!.index).toBeLessThan(answered!.request.index);
    expect(answered?.request.payload).toMatchObject({ params: { inputResponses: ANSWERS, requestState: { server: 'travel', target: 'plan_trip', state: 'plan_trip/awaiting-three-answers' } } });
    expect(answered?.result).toMatchObject({ outcome: 'ok', payload: { result: { content: [{ type: 'text', text: PLAN }] } } });
  });

  test('an SDK agent that answers through its handlers just gets the final result', async () => {
    const asked: string[] = [];
    const helpful = await connectClient({
      transport: 'http',
      url: gateway.url,
      revision: '2026-07-28',
      handlers: {
        elicitation: (request) => (asked.push(`elicitation: ${request.params.message}`), ANSWERS.destination as never),
        sampling: () => (asked.push('sampling'), ANSWERS.budget_advice as never),
        roots: () => (asked.push('roots'), ANSWERS.workspace),
      },
    });
    try {
      const result = await helpful.client.callTool({ name: 'travel__plan_trip', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: PLAN }]);
      expect(asked.sort()).toEqual(['elicitation: Where to?', 'roots', 'sampling']);
    } finally {
      await helpful.close();
    }
  });

  test('input the agent did not declare it can give is refused by the upstream with -32021, and HTTP 400', async () => {
    const formsOnly = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', name: 'forms-only-agent', capabilities: { elicitation: {} } });
    try {
      await expect(ask(formsOnly.client, 'travel__needs_sampling')).rejects.toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { sampling: {} } },
      });
    } finally {
      await formsOnly.close();
    }
    const response = await postModernToolCall(gateway.url, { name: 'travel__needs_sampling', arguments: {}, capabilities: { elicitation: {} } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32021);

    const entries = await waitForEntries(gateway.entries, (all) => exchanges(all, 'travel__needs_sampling').filter((e) => e.result).length >= 2);
    expect(exchanges(entries, 'travel__needs_sampling')[0]?.result).toMatchObject({ outcome: 'error', payload: { error: { code: -32021 } } });
  });

  test('a requestState goes back only to the tool of the upstream that issued it', async () => {
    const first = await ask(agent.client, 'travel__plan_trip');
    const stolen = { inputResponses: ANSWERS, requestState: first.requestState };
    const travelCallsBefore = toolCalls(travelRecord).length;

    // book_trip would take any state as approval; the gateway never lets it see one it did not issue.
    for (const elsewhere of ['travel__book_trip', 'backup__book_trip', 'backup__plan_trip']) {
      await expect(ask(agent.client, elsewhere, stolen), elsewhere).rejects.toMatchObject({ code: -32602 });
    }
    // Nor can the agent hand the upstream's own state, read out of the seal, straight to it.
    await expect(ask(agent.client, 'travel__book_trip', { requestState: 'plan_trip/awaiting-three-answers' })).rejects.toMatchObject({ code: -32602 });

    expect(toolCalls(travelRecord).length).toBe(travelCallsBefore);
    expect(toolCalls(backupRecord)).toEqual([]);
    // The refusals are in the log, with the reason.
    const entries = await waitForEntries(gateway.entries, (all) => exchanges(all, 'backup__plan_trip').some((e) => e.result));
    expect(exchanges(entries, 'backup__plan_trip')[0]?.result?.payload).toMatchObject({
      error: { code: -32602, message: expect.stringContaining("belongs to 'plan_trip' of upstream 'travel'") },
    });
    // The state still serves the call it was issued for.
    expect((await ask(agent.client, 'travel__plan_trip', stolen)).content).toEqual([{ type: 'text', text: PLAN }]);
  });
});

function roundsServer(recordFile: string): StdioLaunch {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'rounds-server.mjs');
  return { command: process.execPath, args: [entry], env: { RECORD_FILE: recordFile } };
}

type Round = Record<string, unknown> & { resultType?: string; inputRequests?: Record<string, unknown>; requestState?: string; content?: unknown };

/** A tools/call whose input_required answer comes back to the test instead of being answered by the SDK. */
function ask(client: Client, name: string, retry: Record<string, unknown> = {}): Promise<Round> {
  return client.request({ method: 'tools/call', params: { name, arguments: {}, ...retry } }, { allowInputRequired: true }) as Promise<Round>;
}

interface UpstreamCall {
  params: { name: string; requestState?: string; inputResponses?: unknown; _meta?: Record<string, unknown> };
}

/** The tools/call requests that reached an upstream's stdin, in order. */
function toolCalls(recordFile: string, tool?: string): UpstreamCall[] {
  let text = '';
  try {
    text = readFileSync(recordFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { method?: string } & UpstreamCall)
    .filter((message) => message.method === 'tools/call' && (tool === undefined || message.params.name === tool));
}

/** The request entries for one agent-side name, each with the entry of its outcome. */
function exchanges(entries: Entry[], name: string): { request: Entry; result: Entry | undefined }[] {
  return entries
    .filter((entry) => entry.kind === 'tool.call' && entry.name === name)
    .map((request) => ({ request, result: entries.find((entry) => entry.kind === 'tool.result' && entry.call === request.call) }));
}

function resultOf(entry: Entry | undefined): Record<string, unknown> {
  return (entry?.payload as { result: Record<string, unknown> }).result;
}
