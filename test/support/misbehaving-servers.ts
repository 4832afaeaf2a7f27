// Launch descriptions of the fixture servers in test/fixtures/, which fail on purpose, and the
// small helpers the failure suites share: raw HTTP to the gateway, texts of results, deadlines.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/client';
import type { StdioLaunch } from './upstream-servers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/**
 * Tools: `ok {message?}` answers at once (text `ok: <message> (pid N)`), `slow {ms}` answers after ms,
 * `crash` exits the process mid-call (code 7), `hang` never answers, `garbage` answers with a cut-off
 * (invalid JSON) response line, `not-json-rpc` with a JSON line that is no JSON-RPC message; neither
 * ever sends a real answer. With `callsFile`, every tools/call it receives is appended there.
 */
export function misbehavingServer(options: { callsFile?: string } = {}): StdioLaunch {
  return {
    command: process.execPath,
    args: [join(FIXTURES, 'misbehaving-server.mjs')],
    ...(options.callsFile === undefined ? {} : { env: { CALLS_FILE: options.callsFile } }),
  };
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
