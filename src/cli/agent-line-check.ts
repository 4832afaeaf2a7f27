import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import { INVALID_REQUEST, PARSE_ERROR, parseJSONRPCMessage } from '@modelcontextprotocol/server';
import type { RequestId } from '@modelcontextprotocol/server';

const NEWLINE = 0x0a;

/**
 * The agent's stdin with every line that is no JSON-RPC message taken out and answered with the
 * JSON-RPC error that says what is wrong with it (-32700 for a line that is not JSON, -32600 for
 * JSON that is no JSON-RPC message or a line over `maxLineBytes`). The SDK's stdio transport
 * skips a line that is not JSON without a word and reports other bad lines only to the operator,
 * so an agent would wait for an answer that never comes. A line over the limit is dropped as it
 * arrives: memory stays bounded whatever the agent sends. `answer` gets each error as a line to
 * write to the agent.
 */
export function checkAgentLines(input: Readable, maxLineBytes: number, answer: (line: string) => void): Readable {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let oversized = false;

  const check = (line: Buffer): Buffer | undefined => {
    const text = line.toString('utf8').replace(/\r?\n$/, '');
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      answer(errorResponse(null, PARSE_ERROR, `Parse error: the line is not JSON (${error instanceof Error ? error.message : String(error)})`));
      return undefined;
    }
    try {
      parseJSONRPCMessage(value);
    } catch {
      answer(
        errorResponse(
          idOf(value),
          INVALID_REQUEST,
          'Invalid Request: the line is JSON but no JSON-RPC 2.0 message (an object with "jsonrpc": "2.0" and a method, or an id with a result or an error)',
        ),
      );
      return undefined;
    }
    return line;
  };

  const endLine = (last: Buffer, push: (line: Buffer) => void): void => {
    if (partialBytes + last.length > maxLineBytes) oversized = true;
    if (oversized) {
      answer(errorResponse(null, INVALID_REQUEST, `Invalid Request: a message longer than ${maxLineBytes} bytes was dropped`));
    } else {
      const line = check(partial.length === 0 ? last : Buffer.concat([...partial, last]));
      if (line !== undefined) push(line);
    }
    partial = [];
    partialBytes = 0;
    oversized = false;
  };

  const keep = (piece: Buffer): void => {
    if (oversized) return;
    if (partialBytes + piece.length > maxLineBytes) {
      oversized = true;
      partial = [];
      partialBytes = 0;
      return;
    }
    partial.push(piece);
    partialBytes += piece.length;
  };

  const checked = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        endLine(chunk.subarray(start, end + 1), (line) => this.push(line));
        start = end + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
      done();
    },
    flush(done: TransformCallback) {
      if (partialBytes > 0 || oversized) endLine(Buffer.alloc(0), (line) => this.push(Buffer.concat([line, Buffer.from('\n')])));
      done();
    },
  });
  return input.pipe(checked);
}

/** The line of a JSON-RPC error response; id null when the request's id cannot be told (JSON-RPC 2.0, section 5). */
function errorResponse(id: RequestId | null, code: number, message: string): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`;
}

function idOf(value: unknown): RequestId | null {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}
