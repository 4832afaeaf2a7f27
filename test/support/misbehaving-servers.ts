// Launch descriptions of the fixture servers in test/fixtures/, which fail on purpose, and the
// small helpers the failure suites share: raw HTTP to the gateway, texts of results, deadlines.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/client';
import type { Entry } from '../../src/ledger/entry.js';
import type { StdioLaunch } from './upstream-servers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/**
 * Tools: `ok {message?}` answers at once (text `ok: <message> (pid N)`), `slow {ms}` answers after ms,
 * `crash` exits the process mid-call (code 7), `hang` never answers, `garbage` answers with a cut-off
 * (invalid JSON) response line, `not-json-rpc` with `{"jsonrpc":"2.0","answer":42}`, no JSON-RPC message;
 * `garbage-lingering` like `garbage`, and then ignores stdin EOF and SIGTERM; `endless-line` writes
 * 11 MiB without a newline; none of these ever sends a real answer. `chatty` prints three lines that
 * are no messages on stdout (`misbehaving-server: a log line printed on stdout by mistake`,
 * `[nodemon] watching path(s): *.*`, `{"level":30,"msg":"misbehaving-server: a JSON log line on stdout"}`),
 * then answers `chatty: answered anyway (pid N)`. `stale-messages`
 * sends progress for a token nobody holds and a response to a request nobody made, then answers
 * `stale-messages: answered (pid N)`. `flood {count, bytes}` sends `count` log messages
 * (`notifications/message`, data `<n> xxx…` of about `bytes` characters) that belong to no call, then
 * answers `flood: sent <count> (pid N)`.
 * With `callsFile`, every tools/call it receives is appended there. With `garbageAtStart`, it writes
 * `{"jsonrpc":"2.0","method":"notifications/mess` (cut off) before it reads anything. With
 * `startDelayMs`, it reads nothing for that long after it starts.
 */
export function misbehavingServer(options: { callsFile?: string; garbageAtStart?: boolean; startDelayMs?: number } = {}): StdioLaunch {
  const env = {
    ...(options.callsFile === undefined ? {} : { CALLS_FILE: options.callsFile }),
    ...(options.garbageAtStart ? { GARBAGE_AT_START: '1' } : {}),
    ...(options.startDelayMs === undefined ? {} : { START_DELAY_MS: String(options.startDelayMs) }),
  };
  return { command: process.execPath, args: [join(FIXTURES, 'misbehaving-server.mjs')], ...(Object.keys(env).length === 0 ? {} : { env }) };
}

/** Prints `exits-at-start: MISSING_API_KEY is not set, giving up` on stderr and exits with 3. */
export function exitsAtStartServer(): StdioLaunch {
  return { command: process.execPath, args: [join(FIXTURES, 'exits-at-start.mjs')] };
}

/** The tools/call names a misbehaving server received, in order ([] if it never got one). */
export function receivedCalls(callsFile: string): string[] {
  try {
    return readFileSync(callsFile, 'utf8').split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The request entry and the outcome entry of the latest call of `name`. */
export function lastCall(entries: Entry[], name: string): { call: Entry; result: Entry | undefined } {
  const call = entries.findLast((entry) => entry.kind === 'tool.call' && entry.name === name);
  if (call === undefined) throw new Error(`no tool.call entry for ${name} in ${entries.length} entries`);
  return { call, result: entries.find((entry) => entry.kind === 'tool.result' && entry.call === call.call) };
}

/** For waitForEntries: the latest call of `name` has its outcome entry. */
export const hasResultFor = (name: string) => (entries: Entry[]) => {
  const call = entries.findLast((entry) => entry.kind === 'tool.call' && entry.name === name);
  return call !== undefined && entries.some((entry) => entry.kind === 'tool.result' && entry.call === call.call);
};

/** The `message` argument of every call of a misbehaving server's `ok` tool in `entries`, in log order. */
export const okMessages = (entries: Entry[]): string[] =>
  entries
    .filter((entry) => entry.kind === 'tool.call' && entry.tool === 'ok')
    .map((entry) => (entry.payload as { params: { arguments: { message: string } } }).params.arguments.message);

/** The process id a misbehaving server's `ok` or `chatty` tool reports. */
export function pidOf(result: CallToolResult): string {
  const pid = /\(pid (\d+)\)/.exec(textsOf(result)[0] ?? '')?.[1];
  if (pid === undefined) throw new Error(`no pid in ${JSON.stringify(result)}`);
  return pid;
}

export const textsOf = (result: CallToolResult): string[] =>
  result.content.flatMap((block) => (block.type === 'text' ? [block.text] : []));

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with full control of the headers, Host included (fetch does not let a caller
 * set Host). Fails instead of hanging after `timeoutMs`.
 */
export function rawHttp(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(new Error(`no complete answer from ${url} within ${options.timeoutMs ?? 5_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Headers a Streamable HTTP client sends with a POST. */
export const MCP_POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Rejects with `what` if `promise` has not settled within `ms`; a hang becomes a test failure, not a test timeout. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`, { cause: 'resolved' });
  } catch (error) {
    if (error instanceof Error && error.cause === 'resolved') throw error;
    return error instanceof Error ? error : new Error(String(error));
  }
}
