import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectClient, type ConnectedClient } from './support/clients.js';
import { startGateway, waitForEntries, type RunningGateway } from './support/gateway-process.js';
import { postModernToolCall } from './support/modern-requests.js';
import { startEverythingStdio } from './support/upstream-servers.js';
import { asJson, askedCount, recordingHandlers, withoutEnvelope, type RecordingHandlers } from './fixtures/forwarding-cases.js';

const UPSTREAM_ROOTS_DELAY_MS = 350;

// A 2026-07-28 agent cannot be sent requests: the gateway answers it input_required and the SDK
// client answers through its handlers and retries. The upstream (2025-only server-everything) asks
// push-style in the middle of the call, which the gateway keeps open between the agent's rounds.
describe('a 2026-07-28 agent answers an upstream’s elicitation, sampling and roots through input rounds', () => {
  let gateway: RunningGateway;
  let agent: ConnectedClient;
  let agentHandlers: RecordingHandlers;
  let direct: ConnectedClient;
  let directHandlers: RecordingHandlers;

  beforeAll(async () => {
    gateway = await startGateway({ everything: startEverythingStdio() });
    agentHandlers = recordingHandlers();
    agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2026-07-28', name: 'rounds-agent', handlers: agentHandlers.handlers });
    directHandlers = recordingHandlers();
    direct = await connectClient({ transport: 'stdio', server: startEverythingStdio(), revision: '2025-11-25', handlers: directHandlers.handlers });
    // server-everything asks for roots once, 350 ms after it is initialized, and keeps the answer.
    // Started by a call and then left idle, the gateway's upstream asks outside any call (refused),
    // so get-roots-list asks exactly once below. Asked during a call instead (the tests' timing on a
    // slow machine), it asks twice within get-roots-list, or has the roots before get-roots-list runs.
    await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'start the upstream' } });
    await sleep(UPSTREAM_ROOTS_DELAY_MS * 4);
  });
  afterAll(async () => {
    await agent?.close();
    await direct?.close();
    await gateway?.stop();
  });

  test('the tools that need those capabilities are offered to the agent that declares them', async () => {
    const names = (await agent.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['everything__trigger-elicitation-request', 'everything__trigger-sampling-request', 'everything__get-roots-list']));
  });

  test.each([
    ['elicitation', 'trigger-elicitation-request', {}],
    ['sampling', 'trigger-sampling-request', { prompt: 'what is AgentTrail?' }],
    ['roots', 'get-roots-list', {}],
  ] as const)('%s: the agent is asked what the upstream asks, and the upstream gets its answer', async (kind, tool, args) => {
    const askedBefore = askedCount(agentHandlers, kind);
    const through = await agent.client.callTool({ name: `everything__${tool}`, arguments: args });
    const straight = await direct.client.callTool({ name: tool, arguments: args });
    expect(withoutEnvelope(through)).toEqual(straight);
    expect(askedCount(agentHandlers, kind)).toBe(askedBefore + 1);
    if (kind !== 'roots') expect(asJson(agentHandlers.asked[kind].at(-1))).toEqual(asJson(directHandlers.asked[kind].at(-1)));

    const entries = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.name === `everything__${tool}`));
    const call = entries.find((entry) => entry.kind === 'tool.call' && entry.name === `everything__${tool}`)!;
    const result = entries.find((entry) => entry.kind === 'tool.result' && entry.call === call.call)!;
    // One call in the log however many rounds it took, with the upstream's question in between.
    expect(entries.filter((entry) => entry.kind === 'tool.call' && entry.name === `everything__${tool}`)).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'ok', server: 'everything', tool });
    const question = entries.find((entry) => entry.kind === 'mcp.request' && entry.index > call.index && entry.index < result.index);
    expect(question).toMatchObject({ server: 'everything', payload: { direction: 'server' } });
  });

  test('a tool the upstream does not have: the error names the tool as the agent called it', async () => {
    const error = await agent.client.callTool({ name: 'everything__no-such-tool', arguments: {} }).then(
      (result) => expect.fail(`expected a JSON-RPC error, got ${JSON.stringify(result)}`),
      (rejection: unknown) => rejection,
    );
    expect(error).toMatchObject({
      code: -32602,
      message: "unknown tool 'everything__no-such-tool': upstream server 'everything' has no tool 'no-such-tool' (it answered: MCP error -32602: Tool no-such-tool not found)",
    });
  });

  test('a retry whose requestState was tampered with is refused', async () => {
    const response = await postModernToolCall(gateway.url, {
      name: 'everything__trigger-elicitation-request',
      arguments: {},
      requestState: 'v1.eyJwIjp7ImNhbGwiOiJmb3JnZWQiLCJxdWVzdGlvbiI6InExIn19.AAAA',
      inputResponses: { q1: { action: 'accept', content: { name: 'Mallory' } } },
      client: 'mallory',
      capabilities: { elicitation: {} },
    });
    const body = await response.text();
    expect(body).toMatch(/-32602/);
    expect(body).not.toMatch(/Mallory/);
  });
});
