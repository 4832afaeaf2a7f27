// Starts the published reference MCP servers from node_modules for real (never npx: the tests run
// offline and must exercise exactly the installed version). Stdio servers are described, not
// started: the gateway (or a StdioClientTransport) spawns them itself. HTTP servers are started
// here and handed back once they accept connections.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const require = createRequire(import.meta.url);

/** How to spawn a stdio MCP server: the shape of the gateway's `servers.<name>` entry and of
 * the SDK's `StdioServerParameters`. */
export interface StdioLaunch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** A server process listening on a loopback port. */
export interface RunningHttpServer {
  /** The MCP endpoint: `/mcp` for Streamable HTTP, `/sse` for the legacy HTTP+SSE transport. */
  url: URL;
  port: number;
  pid: number;
  /** What the process printed so far (stdout and stderr, last 64 KiB), for failure messages. */
  output(): string;
  /** Kills the process and resolves once it has exited. Safe to call twice. */
  close(): Promise<void>;
}

const PackageBinSchema = z.object({
  name: z.string(),
  bin: z.union([z.string(), z.record(z.string(), z.string())]),
});

// The entry file is found through the package's own `bin`, so a release that moves it keeps working.
function packageEntry(packageName: string): string {
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const manifest = PackageBinSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin)[0];
  if (bin === undefined) throw new Error(`${packageName} declares no bin entry in ${manifestPath}`);
  return join(dirname(manifestPath), bin);
}

export const everythingEntry = (): string => packageEntry('@modelcontextprotocol/server-everything');
export const filesystemEntry = (): string => packageEntry('@modelcontextprotocol/server-filesystem');
export const memoryEntry = (): string => packageEntry('@modelcontextprotocol/server-memory');

/** server-everything over stdio (its first argument selects the transport). */
export function startEverythingStdio(): StdioLaunch {
  return { command: process.execPath, args: [everythingEntry(), 'stdio'] };
}

/** server-filesystem over stdio, allowed to touch `dirs` only. A client that declares the `roots`
 * capability REPLACES these directories with its roots after initialization. */
export function filesystemStdio(...dirs: [string, ...string[]]): StdioLaunch {
  return { command: process.execPath, args: [filesystemEntry(), ...dirs] };
}

export interface MemoryLaunch extends StdioLaunch {
  env: Record<string, string>;
  /** The JSONL file the server persists its knowledge graph to. */
  memoryFilePath: string;
  /** Removes the temporary folder this function created (nothing if `MEMORY_FILE_PATH` was given). */
  removeFiles(): void;
}

/** server-memory over stdio. Without `MEMORY_FILE_PATH` in `env` it would write next to its own
 * dist/ inside node_modules, so the file goes into a fresh temporary folder. */
export function memoryStdio(env: Record<string, string> = {}): MemoryLaunch {
  const launch = { command: process.execPath, args: [memoryEntry()] };
  const given = env['MEMORY_FILE_PATH'];
  if (given !== undefined) {
    return { ...launch, env, memoryFilePath: given, removeFiles: () => undefined };
  }
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-memory-'));
  const memoryFilePath = join(folder, 'memory.jsonl');
  return {
    ...launch,
    env: { ...env, MEMORY_FILE_PATH: memoryFilePath },
    memoryFilePath,
    removeFiles: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. Another process may still take it before
 * the caller binds it; the starters below retry on that race. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('the operating system gave no TCP port for 127.0.0.1:0'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * server-everything's Streamable HTTP transport: one session per `initialize`, endpoint `/mcp`. On
 * `port` when given (a server started again where the one before it listened), else on a free one.
 */
export function startEverythingHttp(port?: number): Promise<RunningHttpServer> {
  return startListeningServer('streamableHttp', '/mcp', port);
}

/** server-everything's legacy HTTP+SSE transport (2024-11-05): GET `/sse`, POST `/message`. */
export function startEverythingSse(): Promise<RunningHttpServer> {
  return startListeningServer('sse', '/sse');
}

// Children still running when the test process exits are killed, so a failed suite leaves no
// server holding a port.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 15_000;

async function startListeningServer(mode: 'streamableHttp' | 'sse', path: string, fixedPort?: number): Promise<RunningHttpServer> {
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = fixedPort ?? (await freePort());
    const started = await spawnAndWaitForPort(mode, port);
    if (started.ok) {
      return { ...started.server, url: new URL(`http://127.0.0.1:${port}${path}`) };
    }
    failures.push(`attempt ${attempt} on port ${port}: ${started.reason}`);
  }
  throw new Error(`server-everything (${mode}) did not start:\n${failures.join('\n')}`);
}

type SpawnOutcome =
  | { ok: true; server: Omit<RunningHttpServer, 'url'> }
  | { ok: false; reason: string };

async function spawnAndWaitForPort(mode: string, port: number): Promise<SpawnOutcome> {
  // The servers read the port from $PORT and listen on every interface; 127.0.0.1 is what we dial.
  const child = spawn(process.execPath, [everythingEntry(), mode], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  const output = boundedOutput(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  exited.then(() => liveChildren.delete(child), () => undefined);

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let hasExited = false;
  exited.then(() => (hasExited = true), () => undefined);
  while (Date.now() < deadline) {
    if (hasExited) {
      return { ok: false, reason: `exited with code ${child.exitCode} before listening:\n${output.text()}` };
    }
    if (await acceptsConnections(port)) {
      // The port could belong to someone else who took it after freePort(): make sure our child
      // is still alive and says it is listening.
      if (!hasExited && new RegExp(`port ${port}\\b`).test(output.text())) {
        return { ok: true, server: { port, pid: child.pid ?? -1, output: output.text, close } };
      }
    }
    await sleep(25);
  }
  await close();
  return { ok: false, reason: `not accepting connections after ${START_TIMEOUT_MS} ms:\n${output.text()}` };
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const OUTPUT_LIMIT = 64 * 1024;

// The servers log every request; the pipes must be drained or the child blocks on a full pipe.
function boundedOutput(child: ChildProcess): { text: () => string } {
  let text = '';
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    if (text.length > OUTPUT_LIMIT) text = text.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return { text: () => text };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
