import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { UpstreamConnection } from './upstream-connection.js';
import { upstreamTools } from './upstream-tools.js';

const ErrorResultSchema = z.looseObject({
  isError: z.literal(true),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).default([]),
});

const QUOTED_CHARS = 200;

/** A tools/call as the agent made it and as it went upstream. */
export interface ToolCallNames {
  server: string;
  /** The name the agent called, e.g. `everything__nope`. */
  calledAs: string;
  /** The upstream's own name for it, e.g. `nope`. */
  tool: string;
}

/**
 * An upstream asked for a tool it does not have names the tool as it knows it ("Tool nope not
 * found") while the agent called `everything__nope`, and servers on the 1.x SDK say so in a tool
 * result (isError) instead of the JSON-RPC error (-32602) the protocol asks for. So when a call
 * fails, the upstream's tool list decides: a tool it does not list gets the gateway's own -32602,
 * naming the tool as the agent called it and quoting what the upstream said. Successful calls
 * cost nothing extra; when names are not prefixed (`agenttrail wrap`) the answer passes unchanged.
 */
export async function withUnknownToolNamed(names: ToolCallNames, upstream: UpstreamConnection, answer: Promise<Result>): Promise<Result> {
  if (names.calledAs === names.tool) return answer;
  const outcome = await answer.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  let upstreamSaid: string;
  if ('result' in outcome) {
    // Checked before the schema, whose failure on every successful call would build an error message.
    if (outcome.result['isError'] !== true) return outcome.result;
    const failed = ErrorResultSchema.safeParse(outcome.result);
    if (!failed.success) return outcome.result;
    upstreamSaid = failed.data.content.flatMap((block) => (block.text === undefined ? [] : [block.text])).join(' ');
  } else {
    if (!(outcome.error instanceof ProtocolError)) throw outcome.error;
    upstreamSaid = `MCP error ${outcome.error.code}: ${outcome.error.message}`;
  }
  if ((await lists(upstream, names.tool)) !== false) {
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }
  const quoted = upstreamSaid.length > QUOTED_CHARS ? `${upstreamSaid.slice(0, QUOTED_CHARS)}…` : upstreamSaid;
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `unknown tool '${names.calledAs}': upstream server '${names.server}' has no tool '${names.tool}' (it answered: ${quoted})`,
  );
}

/** Whether the upstream lists `tool`; undefined when its list cannot be read. */
async function lists(upstream: UpstreamConnection, tool: string): Promise<boolean | undefined> {
  try {
    for await (const listed of upstreamTools(upstream)) if (listed.name === tool) return true;
    return false;
  } catch {
    return undefined;
  }
}
