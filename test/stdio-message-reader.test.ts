// How the gateway reads a stdio server's stdout (src/gateway/stdio-message-reader.ts): which lines
// are messages, which are tolerated as the server's diagnostics, which corrupt the stream, and what
// the error quotes. The end-to-end behaviour is in upstream-invalid-output.test.ts.
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { describe, expect, test } from 'vitest';
import type { CorruptStdoutError } from '../src/gateway/corrupt-stdout-error.js';
import { StdioMessageReader } from '../src/gateway/stdio-message-reader.js';

function reader(maxLineBytes = 1024) {
  const stray: string[] = [];
  const corrupt: CorruptStdoutError[] = [];
  const messages: JSONRPCMessage[] = [];
  const instance = new StdioMessageReader({ maxLineBytes, onStrayLine: (line) => stray.push(line), onCorrupt: (error) => corrupt.push(error) });
  /** What the SDK's transport does with each chunk of stdout. */
  const feed = (...chunks: (string | Buffer)[]) => {
    for (const chunk of chunks) {
      instance.append(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      for (let message = instance.readMessage(); message !== null; message = instance.readMessage()) messages.push(message);
    }
  };
  return { feed, stray, corrupt, messages };
}

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' } as const;
const answer = { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'grüße 👋' }] } } as const;

describe('messages', () => {
  test('come out whole and in order however the bytes are chunked, even inside a UTF-8 character; CRLF and blank lines are fine', () => {
    const bytes = Buffer.from(`${JSON.stringify(ping)}\r\n\n   \n${JSON.stringify(answer)}\n`, 'utf8');
    for (const cut of [1, 7, bytes.indexOf('ü') + 1, bytes.indexOf(Buffer.from('👋')) + 2, bytes.length - 1]) {
      const { feed, messages, stray, corrupt } = reader();
      feed(bytes.subarray(0, cut), bytes.subarray(cut));
      expect(messages).toEqual([ping, answer]);
      expect(stray).toEqual([]);
      expect(corrupt).toEqual([]);
    }
  });

  test('a line up to the limit is a message; the line end does not count', () => {
    const line = JSON.stringify(ping);
    const { feed, messages, corrupt } = reader(Buffer.byteLength(line));
    feed(`${line.slice(0, 5)}`, `${line.slice(5)}\n`);
    expect(messages).toEqual([ping]);
    expect(corrupt).toEqual([]);
  });
});

describe('lines that are no messages and do not pretend to be', () => {
  test('are reported as the server’s diagnostics, and the messages around them still arrive', () => {
    const { feed, messages, stray, corrupt } = reader();
    feed(
      'Weather server running on stdio\n',
      `${JSON.stringify(ping)}\n[nodemon] restarting due to changes...\n`,
      '{"level":30,"msg":"listening"}\n[1,2,3]\n"just a string"\n',
      `${JSON.stringify(answer)}\n`,
    );
    expect(messages).toEqual([ping, answer]);
    expect(stray).toEqual([
      'Weather server running on stdio',
      '[nodemon] restarting due to changes...',
      '{"level":30,"msg":"listening"}',
      '[1,2,3]',
      '"just a string"',
    ]);
    expect(corrupt).toEqual([]);
  });

  test('a long one is shortened, saying how long it was', () => {
    const { feed, stray } = reader();
    feed(`${'banner '.repeat(100)}\n`);
    expect(stray).toEqual([`${'banner '.repeat(100).slice(0, 500)}… (700 bytes)`]);
  });
});

describe('a corrupt stream', () => {
  test('a cut-off message: reported once with its size and start, and nothing after it is read', () => {
    const { feed, messages, corrupt } = reader();
    feed(`${JSON.stringify(ping)}\n{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"te\n${JSON.stringify(answer)}\n`);
    feed(`${JSON.stringify(ping)}\n`);
    expect(messages).toEqual([ping]);
    expect(corrupt.map((error) => error.message)).toEqual([
      `a line that is not valid JSON (56 bytes): '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"te'`,
    ]);
  });

  test('JSON with a jsonrpc member that is no valid message', () => {
    const { feed, messages, corrupt } = reader();
    feed('{"jsonrpc":"2.0","id":3}\n');
    expect(messages).toEqual([]);
    expect(corrupt.map((error) => error.message)).toEqual([
      `JSON that is no JSON-RPC 2.0 request, notification or response (24 bytes): '{"jsonrpc":"2.0","id":3}'`,
    ]);
  });

  test('the quote is the first 80 characters, as printable ASCII: no escape sequences or bidi overrides reach a screen', () => {
    const { feed, corrupt } = reader();
    feed(`{"jsonrpc":"2.0","note":"\u001b[31mred\u202eevil\u0007${'x'.repeat(100)}\n`);
    const message = corrupt[0]?.message ?? '';
    expect(message).toBe(
      `a line that is not valid JSON (141 bytes): '{"jsonrpc":"2.0","note":"\\u001b[31mred\\u202eevil\\u0007${'x'.repeat(80 - 39)}…'`,
    );
    expect(message.slice(0, -2)).toMatch(/^[\x20-\x7e]*$/);
  });

  test('a line that outgrows the limit: the messages before it arrive, then the stream is corrupt, and nothing more is kept', () => {
    const { feed, messages, corrupt } = reader(64);
    feed(`${JSON.stringify(ping)}\n{"jsonrpc":"2.0","id":9,"result":`, 'y'.repeat(40));
    expect(messages).toEqual([ping]);
    expect(corrupt.map((error) => error.message)).toEqual([`a line longer than 64 bytes: '{"jsonrpc":"2.0","id":9,"result":'`]);
    feed('y'.repeat(10_000), `\n${JSON.stringify(ping)}\n`);
    expect(messages).toEqual([ping]);
    expect(corrupt).toHaveLength(1);
  });

  test('an overlong line that arrives in one chunk with its end is refused as well', () => {
    const { feed, messages, corrupt } = reader(64);
    feed(`{"jsonrpc":"2.0","id":9,"result":"${'z'.repeat(100)}"}\n`);
    expect(messages).toEqual([]);
    expect(corrupt.map((error) => error.message)).toEqual([`a line longer than 64 bytes: '{"jsonrpc":"2.0","id":9,"result":"${'z'.repeat(80 - 34)}…'`]);
  });
});
