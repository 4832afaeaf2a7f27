// Issue 8, point 6: property-based hostile input (fast-check) at the HTTP endpoint of a real
// `agenttrail serve` (raw fetch) and at the agent side of a real `agenttrail wrap` (raw lines on
// its stdin): bodies and lines that are not JSON, JSON that is no JSON-RPC, bodies over the limit,
// calls whose arguments nest deeply, carry odd Unicode (lone surrogates, NUL, bidirectional
// controls) or are huge. Each gets a JSON-RPC error naming the problem, or its proper result when
// it was valid; the gateway stays up; the log holds exactly the calls that were answered, and
// verifies afterwards.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Entry } from '../src/ledger/entry.js';
import { MAX_JSON_DEPTH } from '../src/ledger/canonical-json.js';
import { readEntries, startGateway, wrapLaunch } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { misbehavingServer } from './support/misbehaving-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';

const MAX_BODY_BYTES = 256 * 1024;
// The SDK's limit for one stdio message, which `agenttrail wrap` keeps for the agent's lines.
const MAX_STDIO_LINE_BYTES = 10 * 1024 * 1024;
const RUNS = 25;

const JsonRpcAnswer = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: z.union([z.string(), z.number(), z.null()]), error: z.object({ code: z.number(), message: z.string() }) }),
  z.object({ jsonrpc: z.literal('2.0'), id: z.union([z.string(), z.number()]), result: z.object({ content: z.array(z.object({ type: z.string(), text: z.string().optional() })) }).loose() }),
]);
type JsonRpcAnswer = z.infer<typeof JsonRpcAnswer>;

// Characters that trip up encoders, terminals and reviewers: half surrogate pairs, NUL and other
// controls, bidirectional overrides and isolates, a byte order mark, line separators, an emoji.
const oddCharacter = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  fc.constantFrom('\u0000', '\u0007', '\u001b', '\u202e', '\u202d', '\u2066', '\u200f', '\ufeff', '\u2028', '\u0085', '😀', '\\', '"'),
);
const oddString = fc.string({ unit: oddCharacter, maxLength: 40 });

const hasLoneSurrogate = (value: unknown): boolean =>
  typeof value === 'string'
    ? /\p{Cs}/u.test(value)
    : typeof value === 'object' && value !== null && Object.entries(value).some(([key, member]) => hasLoneSurrogate(key) || hasLoneSurrogate(member));

/** `{"a":{"a":...1}}` as text: JSON.stringify itself runs out of stack on deep values. */
const nestedText = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Text that JSON.parse refuses. */
const notJson = fc.oneof(oddString, fc.string(), fc.constantFrom('{', '{"jsonrpc":"2.0","id":1,"method":', '[1,2', 'nul', "{'a':1}", '{"a":1}}')).filter((text) => {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
});

/** JSON that is no JSON-RPC 2.0 message: never an object that says "jsonrpc": "2.0". */
const notJsonRpc = fc
  .oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ jsonrpc: fc.constantFrom('1.0', 2, null), id: fc.integer(), method: fc.string() }), fc.record({ id: fc.integer(), method: fc.string() }))
  .filter((value) => !(typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { jsonrpc?: unknown }).jsonrpc === '2.0'))
  .filter((value) => !(Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'object' && item !== null && (item as { jsonrpc?: unknown }).jsonrpc === '2.0')));

/** The arguments of a call of the fixture's `ok` tool with a hostile extra member, as JSON text. */
const hostileArguments = fc.oneof(
  oddString.map((message) => ({ text: JSON.stringify({ message }), message, depth: 1, loneSurrogate: hasLoneSurrogate(message) })),
  fc.record({ message: oddString, extra: fc.jsonValue({ maxDepth: 5 }) }).map((args) => ({ text: JSON.stringify(args), message: args.message, depth: 1, loneSurrogate: hasLoneSurrogate(args) })),
  fc
    .oneof(fc.integer({ min: 1, max: MAX_JSON_DEPTH - 20 }), fc.integer({ min: MAX_JSON_DEPTH + 1, max: 30_000 }))
    .map((depth) => ({ text: `{"message":"deep","p":${nestedText(depth)}}`, message: 'deep', depth: depth + 1, loneSurrogate: false })),
);

/** What a hostile call must get back: its text, or an error naming what made it unrecordable. */
function expectAnswerToCall(answer: JsonRpcAnswer, args: { message: string; depth: number; loneSurrogate: boolean }): 'answered' | 'refused' {
  if (args.loneSurrogate) {
    expect(answer).toMatchObject({ error: { message: expect.stringMatching(/a lone surrogate \(U\+D[89A-F][0-9A-F]{2}, half of a UTF-16 pair\) has no UTF-8 form/) } });
    return 'refused';
  }
  if (args.depth > MAX_JSON_DEPTH) {
    expect(answer).toMatchObject({ error: { message: expect.stringContaining(`nested deeper than ${MAX_JSON_DEPTH} levels`) } });
    return 'refused';
  }
  const text = 'result' in answer ? answer.result.content[0]?.text : undefined;
  expect(text?.replace(/ \(pid \d+\)$/, ''), JSON.stringify(answer)).toBe(`ok: ${args.message}`);
  return 'answered';
}

const toolCallsOf = (entries: Entry[]): Entry[] => entries.filter((entry) => entry.kind === 'tool.call');

describe('the HTTP endpoint of agenttrail serve', () => {
  let gateway: RunningGateway;
  let answeredCalls = 0;

  beforeAll(async () => {
    gateway = await startGateway({ fixture: misbehavingServer() }, { listen: { maxBodyBytes: MAX_BODY_BYTES } });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const MODERN_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28' };
  const LEGACY_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const ENVELOPE = `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"hostile-agent","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`;

  async function post(body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; answer: JsonRpcAnswer }> {
    const bytes = typeof body === 'string' ? body : new Uint8Array(body);
    const response = await fetch(gateway.url, { method: 'POST', headers, body: bytes, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return { status: response.status, answer: JsonRpcAnswer.parse(JSON.parse(text)) };
  }

  /** A 2026-07-28 tools/call of `ok` whose arguments are `argumentsText`, verbatim. */
  const callBody = (argumentsText: string, id: number): string =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"fixture__ok","arguments":${argumentsText},"_meta":${ENVELOPE}}}`;
  const callHeaders = { ...MODERN_HEADERS, 'mcp-method': 'tools/call', 'mcp-name': 'fixture__ok' };

  it('answers a body that is not JSON (text or raw bytes) with 400 and a parse error, in both revisions', async () => {
    const bodies = fc.oneof(notJson, fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((bytes) => !isJsonBytes(bytes)));
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, modern) => {
        const { status, answer } = await post(body, modern ? { ...MODERN_HEADERS, 'mcp-method': 'tools/call' } : LEGACY_HEADERS);
        expect(status).toBe(400);
        expect(answer).toMatchObject({ id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
      }),
      { numRuns: RUNS },
    );
  });

  it('answers JSON that is no JSON-RPC message with 400 and an invalid-request error that says so', async () => {
    await fc.assert(
      fc.asyncProperty(notJsonRpc, async (value) => {
        const { status, answer } = await post(JSON.stringify(value), LEGACY_HEADERS);
        expect(status).toBe(400);
        expect(answer).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/JSON-RPC/) } });
      }),
      { numRuns: RUNS },
    );
  });

  it('answers calls with odd Unicode, deep nesting and odd members: the tool\'s result, or an error naming what cannot be recorded', async () => {
    let id = 0;
    await fc.assert(
      fc.asyncProperty(hostileArguments, async (args) => {
        const { answer } = await post(callBody(args.text, ++id), callHeaders);
        expect(answer.id).toBe(id);
        if (expectAnswerToCall(answer, args) === 'answered') answeredCalls++;
      }),
      { numRuns: 3 * RUNS },
    );
  });

  it(`answers huge argument objects: the result below listen.maxBodyBytes (${MAX_BODY_BYTES}), 413 naming the limit above it`, async () => {
    const wide = fc.record({ keys: fc.integer({ min: 100, max: 20_000 }), value: fc.string({ unit: oddCharacter, maxLength: 8 }).filter((text) => !hasLoneSurrogate(text)) });
    await fc.assert(
      fc.asyncProperty(wide, async ({ keys, value }) => {
        const args = { message: 'wide', ...Object.fromEntries(Array.from({ length: keys }, (_, n) => [`k${n}`, value])) };
        const body = callBody(JSON.stringify(args), 1);
        const { status, answer } = await post(body, callHeaders);
        if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
          expect(status).toBe(413);
          expect(answer).toMatchObject({ error: { message: `request body is larger than ${MAX_BODY_BYTES} bytes (listen.maxBodyBytes)` } });
        } else {
          expect(answer).toMatchObject({ result: { content: [{ text: expect.stringMatching(/^ok: wide /) }] } });
          answeredCalls++;
        }
      }),
      { numRuns: 8 },
    );
  });

  it('is still up afterwards, has recorded exactly the calls it answered, and its log verifies', async () => {
    const { answer } = await post(callBody('{"message":"still here"}', 1), callHeaders);
    expect(answer).toMatchObject({ result: { content: [{ text: expect.stringMatching(/^ok: still here /) }] } });
    expect(gateway.process.exitCode).toBeNull();
    expect(toolCallsOf(await gateway.entries())).toHaveLength(answeredCalls + 1);
    const verify = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verify.code, verify.stdout).toBe(0);
  });
});

describe('the agent side of agenttrail wrap (raw lines on its stdin)', () => {
  let folder: string;
  let db: string;
  let wrap: ChildProcessWithoutNullStreams;
  let answers: LineReader;
  let answeredCalls = 0;
  let marker = 0;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'agenttrail-hostile-'));
    db = `file:${join(folder, 'audit.db')}`;
    const launch = wrapLaunch(misbehavingServer(), db);
    wrap = spawn(launch.command, launch.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    wrap.stderr.resume();
    answers = new LineReader(wrap);
    send(JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile-agent', version: '1' } } }));
    expect(await answers.take((answer) => answer.id === 'init')).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
    send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  });

  afterAll(() => {
    wrap?.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  function send(line: string): void {
    wrap.stdin.write(`${line}\n`);
  }

  /**
   * Sends `line`, then a ping, and returns the answers that came before the ping's: a line that is
   * no message is answered as it is read, before the next line is.
   */
  async function answersTo(line: string): Promise<JsonRpcAnswer[]> {
    const ping = `ping-${++marker}`;
    send(line);
    send(JSON.stringify({ jsonrpc: '2.0', id: ping, method: 'ping' }));
    await answers.take((answer) => answer.id === ping);
    return answers.takeAll().map((answer) => JsonRpcAnswer.parse(answer));
  }

  /** Sends a request and returns its answer (which comes once the upstream answered). */
  async function answerTo(request: string, id: number | string): Promise<JsonRpcAnswer> {
    send(request);
    return JsonRpcAnswer.parse(await answers.take((answer) => answer.id === id));
  }

  it('answers each line that is not JSON with one parse error (id null); blank lines with nothing', async () => {
    await fc.assert(
      fc.asyncProperty(notJson.filter((text) => !/[\n\r]/.test(text)), async (line) => {
        const got = await answersTo(line);
        if (line.trim() === '') expect(got).toEqual([]);
        else expect(got).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error: the line is not JSON/) } }]);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers each JSON line that is no JSON-RPC message with one invalid-request error', async () => {
    await fc.assert(
      fc.asyncProperty(notJsonRpc, async (value) => {
        expect(await answersTo(JSON.stringify(value))).toEqual([
          { jsonrpc: '2.0', id: idOf(value), error: { code: -32600, message: expect.stringMatching(/^Invalid Request: the line is JSON but no JSON-RPC 2\.0 message/) } },
        ]);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers calls with odd Unicode and deep nesting: the tool\'s result, or an error naming what cannot be recorded', async () => {
    let id = 0;
    await fc.assert(
      fc.asyncProperty(hostileArguments, async (args) => {
        const answer = await answerTo(`{"jsonrpc":"2.0","id":${++id},"method":"tools/call","params":{"name":"ok","arguments":${args.text}}}`, id);
        if (expectAnswerToCall(answer, args) === 'answered') answeredCalls++;
      }),
      { numRuns: 2 * RUNS },
    );
  });

  it(`drops a line over ${MAX_STDIO_LINE_BYTES} bytes with an error naming the limit, and reads the next line`, async () => {
    const huge = `{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"ok","arguments":{"message":"${'x'.repeat(MAX_STDIO_LINE_BYTES)}"}}}`;
    expect(await answersTo(huge)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid Request: a message longer than ${MAX_STDIO_LINE_BYTES} bytes was dropped` } },
    ]);
  });

  it('is still up afterwards, has recorded exactly the calls it answered, and its log verifies once the agent leaves', async () => {
    const last = await answerTo('{"jsonrpc":"2.0","id":"last","method":"tools/call","params":{"name":"ok","arguments":{"message":"still here"}}}', 'last');
    expect(last).toMatchObject({ result: { content: [{ text: expect.stringMatching(/^ok: still here /) }] } });
    expect(answers.takeAll()).toEqual([]);
    wrap.stdin.end();
    await new Promise((resolveExit) => wrap.once('exit', resolveExit));
    expect(toolCallsOf(await readEntries(db))).toHaveLength(answeredCalls + 1);
    const verify = await runAgenttrail(['verify', '--db', db]);
    expect(verify.code, verify.stdout).toBe(0);
  });
});

/** The id an answer to `value` carries: its own when it has a usable one, else null. */
function idOf(value: unknown): string | number | null {
  const id = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function isJsonBytes(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** The JSON lines a process writes on stdout, kept until a test takes them. */
class LineReader {
  readonly #lines: Answer[] = [];
  #wanted: { matches: (line: Answer) => boolean; resolve: (line: Answer) => void } | undefined;
  #rest = '';

  constructor(child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (this.#rest + chunk).split('\n');
      this.#rest = parts.pop() ?? '';
      for (const part of parts) {
        const line = JSON.parse(part) as Answer;
        if (this.#wanted?.matches(line)) this.#wanted.resolve(line);
        else this.#lines.push(line);
      }
    });
  }

  /** The first line that matches, already read or still to come; the others stay. */
  take(matches: (line: Answer) => boolean, timeoutMs = 10_000): Promise<Answer> {
    const position = this.#lines.findIndex(matches);
    if (position >= 0) return Promise.resolve(this.#lines.splice(position, 1)[0]!);
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such answer on stdout within ${timeoutMs} ms; got ${JSON.stringify(this.#lines).slice(0, 500)}`)), timeoutMs);
      this.#wanted = {
        matches,
        resolve: (line) => {
          clearTimeout(timer);
          this.#wanted = undefined;
          resolveLine(line);
        },
      };
    });
  }

  /** Every line read and not taken yet. */
  takeAll(): Answer[] {
    return this.#lines.splice(0);
  }
}

type Answer = { id?: unknown } & Record<string, unknown>;
