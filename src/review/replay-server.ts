import { ProtocolError, ProtocolErrorCode, Server } from '@modelcontextprotocol/server';
import type { Result, Tool } from '@modelcontextprotocol/server';
import { AGENTTRAIL_VERSION } from '../version.js';
import type { RecordedToolSession } from './recorded-tool-calls.js';
import type { ReplayAnswers } from './replay-answers.js';

/** What a tool whose tools/list entry was not recorded accepts: any arguments. */
const ANY_ARGUMENTS = { type: 'object' } as const;

/**
 * An MCP server that plays a recorded session back: it offers the tools the agent was shown and
 * answers each tools/call with what the agent got for the same call (see ReplayAnswers). A call
 * the recording does not hold fails with an InvalidParams error that names the nearest recorded
 * call. One server serves one connection; the answers are shared by all of them.
 */
export function createReplayServer(recording: RecordedToolSession, answers: ReplayAnswers): Server {
  const server = new Server({ name: 'agenttrail-replay', version: AGENTTRAIL_VERSION }, { capabilities: { tools: {} } });
  const tools = offeredTools(recording);
  server.setRequestHandler('tools/list', () => ({ tools }));
  server.setRequestHandler('tools/call', (request) => {
    const match = answers.take(request.params.name, request.params.arguments ?? {});
    if ('miss' in match) throw new ProtocolError(ProtocolErrorCode.InvalidParams, match.miss);
    const { answer, index } = match.call;
    switch (answer.kind) {
      case 'result':
        return answer.result as Result as never;
      case 'error':
        throw new ProtocolError(answer.code ?? ProtocolErrorCode.InternalError, answer.message);
      case 'missing':
        throw new ProtocolError(ProtocolErrorCode.InternalError, `the recorded call (entry ${index}) cannot be replayed: ${answer.reason}`);
    }
  });
  return server;
}

/**
 * The tools as the agent was shown them, then those it called without a recorded listing (with a
 * schema that takes any arguments). Output schemas are left out: a recorded structured result may
 * hold redaction markers where the schema wants, say, a number, and a client would refuse it.
 */
function offeredTools(recording: RecordedToolSession): Tool[] {
  const listed: Tool[] = recording.tools.map((tool) => ({
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema ?? ANY_ARGUMENTS,
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
  }));
  const names = new Set(listed.map((tool) => tool.name));
  const unlisted = [...new Set(recording.calls.map((call) => call.name))].filter((name) => !names.has(name));
  return [
    ...listed,
    ...unlisted.map((name) => ({ name, description: `Called in session ${recording.session}; its tools/list entry was not recorded.`, inputSchema: ANY_ARGUMENTS })),
  ];
}
