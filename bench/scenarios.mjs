// The set-ups `npm run bench` compares, all started at once so that their measurements can be
// interleaved: the same SDK client calling the same `echo` tool directly, through AgentTrail (full
// audit: write-ahead entries in a real libSQL file, signed checkpoints) and through two peer
// proxies that record nothing. Every process is spawned with this Node (process.execPath) and the
// entry file installed in node_modules, never npx.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { descendants } from './process-tree.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const AGENTTRAIL_BIN = join(here, '../dist/node.js');
const ECHO_HTTP_SERVER = join(here, 'fixtures/echo-http-server.mjs');
const START_TIMEOUT_MS = 20_000;

/** The entry file of an installed package's (first) bin. */
function binEntry(packageName) {
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const { bin } = require(manifestPath);
  const relative = typeof bin === 'string' ? bin : Object.values(bin)[0];
  if (typeof relative !== 'string') throw new Error(`${packageName} declares no bin in ${manifestPath}: run npm ci`);
  return join(dirname(manifestPath), relative);
}

/**
 * A process the bench started. Its output is drained (a full pipe would stall it) and the last
 * 16 KiB kept for error messages.
 */
export function startProcess(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name,
    child,
    pid: child.pid,
    output: () => output,
    /** Resolves with the first match of `pattern` in stdout/stderr; rejects if the process exits first. */
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
        const check = () => {
          const match = pattern.exec(output);
          if (!match) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          resolve(match);
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        check();
        exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`));
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function acceptsConnections(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

/** Starts a proxy that takes its port on the command line and waits until it accepts connections. */
async function startListeningProxy(name, argsForPort) {
  const port = await freePort();
  const proxy = startProcess(name, process.execPath, argsForPort(port));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proxy.child.exitCode !== null) throw new Error(`${name} exited (${proxy.child.exitCode}) before it listened:\n${proxy.output()}`);
    if (await acceptsConnections(port)) return { proxy, url: `http://127.0.0.1:${port}/mcp` };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await proxy.stop();
  throw new Error(`${name} did not listen on port ${port} within ${START_TIMEOUT_MS} ms:\n${proxy.output()}`);
}

async function connectClient(transport) {
  const client = new Client({ name: 'agenttrail-bench', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close(); // a stdio transport has spawned its process already
    throw error;
  }
  return client;
}

/** The SDK client over Streamable HTTP, as an agent would connect (with its bearer token, when it has one). */
export const httpClient = (url, token) =>
  connectClient(new StreamableHTTPClientTransport(new URL(url), token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } }));

/** server-everything over stdio (its first argument selects the transport). */
export const everythingStdio = () => ({ command: process.execPath, args: [binEntry('@modelcontextprotocol/server-everything'), 'stdio'] });

/** The benchmark's own HTTP echo server (fixtures/echo-http-server.mjs) on a free port. */
export async function startEchoServer() {
  const server = startProcess('echo server', process.execPath, [ECHO_HTTP_SERVER, '0']);
  const [, url] = await server.waitFor(/listening at (http\S+)/);
  return { server, url };
}

/**
 * `agenttrail serve` in front of `servers` (the config's `servers` map), with its database and key
 * in `folder`; `nodeFlags` go to node before the script (e.g. --cpu-prof). Agents authenticate as
 * they would in production: with a token from `agenttrail agents add`, checked on every request.
 */
export async function startServe(folder, servers, { nodeFlags = [] } = {}) {
  const db = join(folder, 'serve.db');
  const config = {
    log: { origin: 'bench.agenttrail.local/serve', db: `file:${db}`, key: join(folder, 'serve.key') },
    listen: { host: '127.0.0.1', port: 0 },
    servers,
  };
  const configFile = join(folder, 'agenttrail.yaml');
  await writeFile(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  const added = await promisify(execFile)(process.execPath, [AGENTTRAIL_BIN, 'agents', 'add', 'bench-agent', '--config', configFile, '--json'], { cwd: folder });
  const { token } = JSON.parse(added.stdout);
  const gateway = startProcess('agenttrail serve', process.execPath, [...nodeFlags, AGENTTRAIL_BIN, 'serve', '--config', configFile], { cwd: folder });
  try {
    const [, url] = await gateway.waitFor(/serving MCP at (http\S+)/);
    return { gateway, url, db, token };
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}

/**
 * `agenttrail serve` in front of one upstream, as the profile and the soak drive it: `http` is the
 * bench's echo server, `stdio` is server-everything. `tool` is the echo tool's name through serve;
 * `stop()` ends serve and the upstream.
 */
export async function startServeInFrontOf(upstream, folder, { nodeFlags = [] } = {}) {
  if (upstream === 'stdio') {
    const served = await startServe(folder, { everything: everythingStdio() }, { nodeFlags });
    return { ...served, tool: 'everything__echo', stop: () => served.gateway.stop() };
  }
  if (upstream !== 'http') throw new Error(`--upstream must be http or stdio, not '${upstream}'`);
  const echo = await startEchoServer();
  try {
    const served = await startServe(folder, { echo: { url: echo.url } }, { nodeFlags });
    return { ...served, tool: 'echo__echo', stop: async () => { await served.gateway.stop(); await echo.server.stop(); } };
  } catch (error) {
    await echo.server.stop();
    throw error;
  }
}

/**
 * Starts every process and connects one client per scenario; `stop()` ends them all, once (the
 * files stay), `removeFiles()` deletes the temporary folder.
 * A scenario is `{ id, label, kind, upstream, tool, client, gatewayPid, upstreamPids(), db }`:
 * `gatewayPid` is the process whose own CPU is "the gateway's" (undefined when calling directly),
 * `upstreamPids()` the processes that serve the echo (measured apart, never counted as the
 * gateway's), `db` the audit database file of an AgentTrail scenario.
 */
export async function startScenarios() {
  const folder = await mkdtemp(join(tmpdir(), 'agenttrail-bench-peers-'));
  const processes = [];
  const clients = [];
  const started = (proc) => (processes.push(proc), proc);
  const connected = async (clientPromise) => {
    const client = await clientPromise;
    clients.push(client);
    return client;
  };
  // Clients first, so that every gateway sees its agents leave and flushes its log; the audit
  // databases stay on disk until removeFiles, to be measured.
  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.allSettled(clients.map((client) => client.close()));
      await Promise.allSettled(processes.map((proc) => proc.stop()));
    })();
    return stopped;
  };
  const removeFiles = () => rm(folder, { recursive: true, force: true });

  try {
    const everything = everythingStdio();
    const { server: echoServer, url: echoUrl } = await startEchoServer();
    started(echoServer);
    // One AgentTrail gateway fronts both upstreams, as a user's config would.
    const { gateway, url: gatewayUrl, db: servedDb, token } = await startServe(folder, { echo: { url: echoUrl }, everything });
    started(gateway);

    const supergateway = await startListeningProxy('supergateway', (port) => [
      binEntry('supergateway'),
      '--stdio', [everything.command, ...everything.args].join(' '),
      '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none',
    ]);
    started(supergateway.proxy);
    const mcpProxy = await startListeningProxy('mcp-proxy', (port) => [
      binEntry('mcp-proxy'), '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', everything.command, ...everything.args,
    ]);
    started(mcpProxy.proxy);

    const directStdio = new StdioClientTransport({ ...everything, stderr: 'ignore' });
    const wrappedDb = join(folder, 'wrap.db');
    const wrap = new StdioClientTransport({
      command: process.execPath,
      args: [AGENTTRAIL_BIN, 'wrap', '--db', `file:${wrappedDb}`, '--key', join(folder, 'wrap.key'), '--', everything.command, ...everything.args],
      cwd: folder,
      stderr: 'ignore',
    });

    const scenarios = [
      { id: 'direct-http', label: 'direct → echo (HTTP)', kind: 'direct', upstream: 'echo-http', tool: 'echo', client: await connected(httpClient(echoUrl)), gatewayPid: undefined, upstreamPids: () => [echoServer.pid] },
      { id: 'direct-stdio', label: 'direct → everything (stdio)', kind: 'direct', upstream: 'everything-stdio', tool: 'echo', client: await connected(connectClient(directStdio)), gatewayPid: undefined, upstreamPids: () => [directStdio.pid] },
      { id: 'agenttrail-http-http', label: 'agenttrail serve → echo (HTTP)', kind: 'agenttrail', upstream: 'echo-http', tool: 'echo__echo', client: await connected(httpClient(gatewayUrl, token)), gatewayPid: gateway.pid, upstreamPids: () => [echoServer.pid, ...descendants(gateway.pid)], db: servedDb },
      { id: 'agenttrail-http-stdio', label: 'agenttrail serve → everything (stdio)', kind: 'agenttrail', upstream: 'everything-stdio', tool: 'everything__echo', client: await connected(httpClient(gatewayUrl, token)), gatewayPid: gateway.pid, upstreamPids: () => descendants(gateway.pid), db: servedDb },
      { id: 'agenttrail-wrap', label: 'agenttrail wrap → everything (stdio)', kind: 'agenttrail', upstream: 'everything-stdio', tool: 'echo', client: await connected(connectClient(wrap)), gatewayPid: wrap.pid, upstreamPids: () => descendants(wrap.pid), db: wrappedDb },
      { id: 'supergateway', label: 'supergateway --stateful → everything (stdio)', kind: 'peer', upstream: 'everything-stdio', tool: 'echo', client: await connected(httpClient(supergateway.url)), gatewayPid: supergateway.proxy.pid, upstreamPids: () => descendants(supergateway.proxy.pid) },
      { id: 'mcp-proxy', label: 'mcp-proxy → everything (stdio)', kind: 'peer', upstream: 'everything-stdio', tool: 'echo', client: await connected(httpClient(mcpProxy.url)), gatewayPid: mcpProxy.proxy.pid, upstreamPids: () => descendants(mcpProxy.proxy.pid) },
    ];
    return { scenarios, stop, removeFiles };
  } catch (error) {
    await stop();
    await removeFiles();
    throw error;
  }
}
