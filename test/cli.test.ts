import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENTTRAIL_VERSION } from '../src/version.js';
import { connectClient } from './support/clients.js';
import { readEntries } from './support/gateway-process.js';
import { everythingEntry } from './support/upstream-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');

function agenttrail(args: string[], options: { cwd?: string; bin?: string } = {}): Promise<CliResult> {
  return runAgenttrail(args, { cwd: options.cwd ?? repo, ...(options.bin === undefined ? {} : { bin: options.bin }) });
}

describe('agenttrail command line', () => {
  test('--help lists the commands, and each command --help describes every option', async () => {
    const main = await agenttrail(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/agenttrail serve/);
    expect(main.stdout).toMatch(/agenttrail wrap/);
    const serve = await agenttrail(['serve', '--help']);
    expect(serve.code).toBe(0);
    for (const option of ['--config', '--db', '--host', '--port', '--help']) expect(serve.stdout).toContain(option);
    const wrap = await agenttrail(['wrap', '--help']);
    expect(wrap.code).toBe(0);
    for (const option of ['--config', '--db', '--name', '--help']) expect(wrap.stdout).toContain(option);
  });

  test('--version prints the package version', async () => {
    const packageVersion = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    expect(AGENTTRAIL_VERSION).toBe(packageVersion);
    expect((await agenttrail(['--version'])).stdout.trim()).toBe(packageVersion);
  });

  test('usage mistakes exit 2 with a one-line reason', async () => {
    const unknown = await agenttrail(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^agenttrail: unknown command 'frobnicate'/);
    const badPort = await agenttrail(['serve', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--port/);
    const noCommand = await agenttrail(['wrap', '--db', 'file::memory:']);
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toMatch(/wrap needs the server command after --/);
    const missingConfig = await agenttrail(['serve', '--config', '/nonexistent/agenttrail.yaml']);
    expect(missingConfig.code).toBe(2);
    expect(missingConfig.stderr).toMatch(/config file not found: .*agenttrail\.yaml/);
  });
});

describe('npm start', () => {
  test('serves the example config, fronting real servers from npm, and says where to connect', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-start-'));
    const db = `file:${join(folder, 'audit.db')}`;
    const child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--db', db], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        child.stdout.on('data', () => {
          const match = /serving MCP at (http\S+)/.exec(stdout);
          if (match?.[1]) resolveUrl(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
      });
      const agent = await connectClient({ transport: 'http', url, revision: '2025-11-25' });
      const tools = (await agent.client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['everything__echo', 'memory__read_graph', 'files__list_directory']));
      const echoed = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'from npm start' } });
      expect(echoed.content).toEqual([{ type: 'text', text: 'Echo: from npm start' }]);
      await agent.close();
      const entries = await readEntries(db, 'agenttrail.local/example');
      expect(entries.find((entry) => entry.kind === 'tool.call' && entry.name === 'everything__echo')).toMatchObject({ server: 'everything', tool: 'echo' });
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((resolveExit) => child.once('exit', resolveExit));
    }
  }, 60_000);
});

describe('the published package', () => {
  let installed: string;
  beforeAll(async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agenttrail-pack-'));
    // dist/ is built by `npm test` before any test runs; packing must not build it again (npm's
    // prepare script), which would rewrite dist/ under the test files running beside this one.
    const { stdout } = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', folder], { cwd: repo });
    const tarball = join(folder, stdout.trim().split('\n').pop()!);
    installed = join(folder, 'user-project');
    await run('mkdir', ['-p', installed]);
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball], { cwd: installed });
  }, 180_000);

  test('installs into an empty folder and runs agenttrail from there', async () => {
    const bin = join(installed, 'node_modules', '.bin', 'agenttrail');
    const help = await run(bin, ['--help'], { cwd: installed });
    expect(help.stdout).toMatch(/agenttrail serve/);

    const db = `file:${join(installed, 'audit.db')}`;
    const agent = await connectClient({
      transport: 'stdio',
      revision: '2025-11-25',
      server: { command: bin, args: ['wrap', '--db', db, '--', process.execPath, everythingEntry(), 'stdio'] },
    });
    const echoed = await agent.client.callTool({ name: 'echo', arguments: { message: 'installed' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'Echo: installed' }]);
    await agent.close();
    const entries = await readEntries(db);
    expect(entries.map((entry) => entry.kind)).toEqual(expect.arrayContaining(['session.start', 'tool.call', 'tool.result']));
    // Without --name, the server is logged under the name of the package its command runs.
    expect(entries.find((entry) => entry.kind === 'tool.call')).toMatchObject({ server: 'server-everything', tool: 'echo', name: 'echo' });
  }, 60_000);

  afterAll(() => undefined);
});
