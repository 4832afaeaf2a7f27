import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open-store.js';
import type { Entry } from '../../src/ledger/entry.js';
import type { StdioLaunch } from './upstream-servers.js';

/** The built CLI (`npm test` builds it first), run exactly as a user runs `agenttrail`. */
export const AGENTTRAIL_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/node.js');
export const DEFAULT_ORIGIN = 'agenttrail.local/gateway';

/** Which revision the gateway speaks to the upstream for 2026-07-28 agents (see config-schema.ts). */
type UpstreamProtocol = 'auto' | '2025-11-25' | '2026-07-28';

export type UpstreamConfig =
  | (StdioLaunch & { timeoutMs?: number; protocol?: UpstreamProtocol })
  | { url: string; transport?: 'streamable-http' | 'sse'; headers?: Record<string, string>; timeoutMs?: number; protocol?: UpstreamProtocol };

export interface RunningGateway {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp. */
  url: string;
  /** URL of the audit database: a `file:` in `folder` unless `log.db` was overridden. */
  db: string;
  folder: string;
  process: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Every entry of the gateway's log, in index order. */
  entries(): Promise<Entry[]>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface GatewayConfigOverrides {
  listen?: Record<string, unknown>;
  naming?: Record<string, unknown>;
  log?: Record<string, unknown>;
  /** Default: agents on loopback need no token (the suites about authentication set their own). */
  auth?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
  redaction?: Record<string, unknown>;
  /** The config's policies section; a relative dir is relative to the gateway's temporary folder. */
  policies?: Record<string, unknown>;
  /** The config's approvers section. */
  approvers?: Record<string, unknown>;
  /** The config's approvals section (webhook). */
  approvals?: Record<string, unknown>;
  /** The config's ingest section (webhook secrets). */
  ingest?: Record<string, unknown>;
  /** Added to the gateway's environment. */
  env?: Record<string, string>;
  /**
   * Where the config, key and database go; default a new temporary folder. A test that expects the
   * start to fail reads the log there; the folder of a gateway that ran before restarts it.
   */
  folder?: string;
}

/** Writes a config file for `servers` and starts `agenttrail serve` on a free loopback port. */
export async function startGateway(servers: Record<string, UpstreamConfig>, overrides: GatewayConfigOverrides = {}): Promise<RunningGateway> {
  const folder = overrides.folder ?? mkdtempSync(join(tmpdir(), 'agenttrail-gateway-'));
  const db = typeof overrides.log?.db === 'string' ? overrides.log.db : `file:${join(folder, 'audit.db')}`;
  const config = {
    log: { key: 'gateway.key', ...overrides.log, db },
    listen: { port: 0, ...overrides.listen },
    ...(overrides.naming ? { naming: overrides.naming } : {}),
    auth: overrides.auth ?? { unauthenticated: 'loopback' },
    ...(overrides.credentials ? { credentials: overrides.credentials } : {}),
    ...(overrides.redaction ? { redaction: overrides.redaction } : {}),
    ...(overrides.policies ? { policies: overrides.policies } : {}),
    ...(overrides.approvers ? { approvers: overrides.approvers } : {}),
    ...(overrides.approvals ? { approvals: overrides.approvals } : {}),
    ...(overrides.ingest ? { ingest: overrides.ingest } : {}),
    servers,
  };
  const configFile = join(folder, 'agenttrail.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [AGENTTRAIL_BIN, 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...overrides.env },
  });
  liveGateways.add(child);
  const output = collectOutput(child);
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`agenttrail serve did not start within 15 s:\n${output().stderr}`)), 15_000);
    child.stdout!.on('data', () => {
      const match = /serving MCP at (http\S+)/.exec(output().stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agenttrail serve exited with ${code}:\n${output().stderr}`));
    });
  });
  const origin = typeof overrides.log?.origin === 'string' ? overrides.log.origin : DEFAULT_ORIGIN;
  return {
    url,
    db,
    folder,
    process: child,
    output,
    entries: () => readEntries(db, origin),
    stop: (signal = 'SIGTERM') => stopProcess(child, signal),
  };
}

/** The spawn description of `agenttrail wrap -- <server>`, for a stdio client. */
export function wrapLaunch(server: StdioLaunch, db: string, extraArgs: string[] = []): StdioLaunch {
  return {
    command: process.execPath,
    args: [AGENTTRAIL_BIN, 'wrap', '--db', db, '--key', keyFileBeside(db), ...extraArgs, '--', server.command, ...server.args],
    ...(server.env ? { env: server.env } : {}),
  };
}

/** The gateway key a test keeps next to its `file:` database. */
export function keyFileBeside(db: string): string {
  return join(dirname(db.replace(/^file:/, '')), 'gateway.key');
}

export async function readEntries(db: string, origin = DEFAULT_ORIGIN): Promise<Entry[]> {
  const store = await openStore({ url: db });
  try {
    return await store.entries(origin);
  } finally {
    await store.close();
  }
}

/** Polls the log until `predicate` holds for its entries (the outcome entry lands just after the reply). */
export async function waitForEntries(read: () => Promise<Entry[]>, predicate: (entries: Entry[]) => boolean, timeoutMs = 5000): Promise<Entry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await read();
    if (predicate(entries)) return entries;
    if (Date.now() > deadline) throw new Error(`log entries never matched; last ${entries.length}: ${JSON.stringify(entries.slice(-5), null, 1)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const liveGateways = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveGateways) child.kill('SIGKILL');
});

function collectOutput(child: ChildProcess): () => { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return () => ({ stdout, stderr });
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  // A process that already ended (by itself, or killed by a signal) emits no further exit event.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => {
    child.once('exit', (code) => {
      liveGateways.delete(child);
      resolveExit(code);
    });
    child.kill(signal);
  });
}
