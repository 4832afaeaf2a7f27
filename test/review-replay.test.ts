// Replay (issue 7, point 3). A session is recorded by a real gateway in front of server-everything
// and server-filesystem; then `agenttrail replay SESSION --serve` plays it back to real SDK clients of
// both revisions (stdio and HTTP), and `agenttrail replay SESSION --rerun` runs it again through a
// gateway with today's policy against the live upstreams and tells what changed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectClient, REVISIONS } from './support/clients.js';
import type { ClientRevision, ConnectedClient } from './support/clients.js';
import { AGENTTRAIL_BIN, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import { filesystemStdio, startEverythingStdio } from './support/upstream-servers.js';

const SECRET = 'replay-secret-Qw8Zt3Lm5Xv1';

let gateway: RunningGateway;
let files: string;
let session: string;
/** What the agent saw of the tools, and got for each call, when the session was recorded. */
let seen: { tools: Tool[]; echo: CallToolResult; badSum: CallToolResult; env: CallToolResult };

const noteFile = (): string => join(files, 'note.txt');
const writtenFile = (): string => join(files, 'written.txt');

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'agenttrail-replay-files-'));
  writeFileSync(noteFile(), 'first version\nof the note\n');
  gateway = await startGateway(
    { everything: startEverythingStdio(), files: filesystemStdio(files) },
    {
      env: { REPLAY_TOKEN_SOURCE: SECRET },
      credentials: { 'everything-token': { source: 'env:REPLAY_TOKEN_SOURCE', servers: ['everything'], env: 'UPSTREAM_API_TOKEN' } },
    },
  );
  const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'incident-agent' });
  const { tools } = await agent.client.listTools();
  const read = () => agent.client.callTool({ name: 'files__read_text_file', arguments: { path: noteFile() } });
  expect(textOf(await read())).toBe('first version\nof the note\n');
  writeFileSync(noteFile(), 'second version\n');
  expect(textOf(await read())).toBe('second version\n');
  const echo = await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } });
  const badSum = await agent.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two', b: 3 } });
  await expect(agent.client.callTool({ name: 'everything__no-such-tool', arguments: {} })).rejects.toThrow(/unknown tool/);
  const env = await agent.client.callTool({ name: 'everything__get-env', arguments: {} });
  expect(JSON.stringify(env)).toContain(SECRET);
  await agent.client.callTool({ name: 'files__write_file', arguments: { path: writtenFile(), content: 'written by the agent' } });
  await agent.close();
  seen = { tools, echo, badSum, env };
  const entries = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.tool === 'write_file'));
  session = entries.find((entry) => entry.agent.client?.name === 'incident-agent')!.session;
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  if (files !== undefined) rmSync(files, { recursive: true, force: true });
});

describe('agenttrail replay --serve', () => {
  it('plays the session back over stdio: the tools the agent saw, and the recorded answer of each call', async () => {
    const replay = await connectReplayOverStdio('2025-11-25');
    try {
      const { tools } = await replay.client.listTools();
      // Besides the tools it was shown, the one it called unlisted (which takes any arguments).
      expect(tools.map((tool) => tool.name).sort()).toEqual([...seen.tools.map((tool) => tool.name), 'everything__no-such-tool'].sort());
      expect(tools.find((tool) => tool.name === 'everything__no-such-tool')!.inputSchema).toEqual({ type: 'object' });
      const echo = tools.find((tool) => tool.name === 'everything__echo')!;
      expect(echo.inputSchema).toEqual(seen.tools.find((tool) => tool.name === 'everything__echo')!.inputSchema);
      expect(echo.annotations).toMatchObject({ readOnlyHint: true });

      // The same call twice got two answers (the file changed in between): they come back in that order.
      const read = () => replay.client.callTool({ name: 'files__read_text_file', arguments: { path: noteFile() } });
      expect(textOf(await read())).toBe('first version\nof the note\n');
      expect(textOf(await read())).toBe('second version\n');
      await expect(read()).rejects.toThrow(/files__read_text_file with these arguments was called 2 times in session .* \(entry \d+, \d+\), and a replay answers each recorded call once: this is call 3/);

      expect(await replay.client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } })).toEqual(seen.echo);
      const badSum = await replay.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two', b: 3 } });
      expect(badSum).toEqual(seen.badSum);
      expect(badSum.isError).toBe(true);
      // The gateway's own JSON-RPC error, with its code.
      await expect(replay.client.callTool({ name: 'everything__no-such-tool', arguments: {} })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(/unknown tool 'everything__no-such-tool'/),
      });
      // Redaction markers stay as recorded: the secret the agent saw is not in the log, so not in the replay.
      const env = JSON.stringify(await replay.client.callTool({ name: 'everything__get-env', arguments: {} }));
      expect(env).not.toContain(SECRET);
      expect(env).toMatch(/\[redacted:credential:everything-token:[0-9a-f]{32}:[0-9a-f]{64}\]/);
    } finally {
      await replay.close();
    }
  });

  it('refuses a call it has no recording of, naming the nearest recorded call', async () => {
    const replay = await connectReplayOverStdio('2026-07-28');
    try {
      await expect(replay.client.callTool({ name: 'everything__echo', arguments: { message: 'hellp' } })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(
          new RegExp(`no recorded call of everything__echo with these arguments in session ${session}; the nearest recorded call is entry \\d+: everything__echo \\{"message":"hello"\\} \\(arguments differ in message\\)`),
        ),
      });
      await expect(replay.client.callTool({ name: 'everything__get-sum', arguments: { a: 'two', b: 3, c: 1 } })).rejects.toThrow(
        /nearest recorded call is entry \d+: everything__get-sum \{"a":"two","b":3\} \(arguments differ in c\)/,
      );
      await expect(replay.client.callTool({ name: 'everything__ech', arguments: { message: 'hello' } })).rejects.toThrow(
        /no recorded call of a tool named everything__ech in session .*; the nearest recorded call is entry \d+: everything__echo \{"message":"hello"\} \(the closest tool name\)/,
      );
    } finally {
      await replay.close();
    }
  });

  it.each(REVISIONS)('serves %s clients over HTTP on loopback, sharing the recorded order across connections', async (revision) => {
    const served = await startReplayOverHttp(session, gateway.db);
    const clients: ConnectedClient[] = [];
    try {
      const connect = async () => {
        const client = await connectClient({ transport: 'http', url: served.url, revision });
        clients.push(client);
        return client.client;
      };
      const first = await connect();
      expect((await first.listTools()).tools.map((tool) => tool.name)).toContain('files__read_text_file');
      expect((await first.callTool({ name: 'everything__echo', arguments: { message: 'hello' } })).content).toEqual(seen.echo.content);
      const read = { name: 'files__read_text_file', arguments: { path: noteFile() } };
      expect(textOf(await first.callTool(read))).toBe('first version\nof the note\n');
      expect(textOf(await (await connect()).callTool(read))).toBe('second version\n');
      // Served on loopback only, against DNS rebinding.
      expect(await statusWithHost(served.url, 'evil.example')).toBe(403);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await served.stop();
    }
  });

  it('says what is wrong with the command line (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['replay', session, '--db', gateway.db], /replay needs --serve .* or --rerun --config FILE/],
      [['replay', session, '--serve', '--rerun', '--db', gateway.db], /--serve and --rerun exclude each other/],
      [['replay', session, '--serve', '--allow-side-effects', '--db', gateway.db], /--allow-side-effects goes with --rerun, not --serve/],
      [['replay', 'no-such-session', '--serve', '--db', gateway.db], /has no session "no-such-session"; agenttrail sessions lists the sessions it has/],
      [['replay', '--serve', '--db', gateway.db], /replay needs the SESSION to replay/],
    ];
    for (const [args, message] of cases) {
      const result = await runAgenttrail(args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const help = await runAgenttrail(['replay', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--serve', '--port', '--rerun', '--config', '--allow-side-effects', '--key', '--db', '--log', '--json', 'redaction markers']) expect(help.stdout).toContain(option);
    expect((await runAgenttrail(['--help'])).stdout).toContain('agenttrail replay SESSION --serve');
  });
});

const RerunDocumentSchema = z.object({
  session: z.string(),
  rerun: z.object({ log: z.string(), session: z.string() }),
  counts: z.object({ same: z.number(), different: z.number(), refused: z.number(), skipped: z.number() }),
  calls: z.array(z.looseObject({ index: z.number(), name: z.string(), status: z.enum(['same', 'different', 'refused', 'skipped']), reason: z.string().optional(), diff: z.array(z.string()).optional() })),
});

describe('agenttrail replay --rerun', () => {
  let config: string;

  beforeAll(() => {
    // Today's policy denies get-sum, which ran when the session was recorded.
    const policies = join(gateway.folder, 'rerun-policies');
    mkdirSync(policies);
    writeFileSync(join(policies, 'no-sums.yaml'), 'rules:\n  - id: no-sums\n    tools: [get-sum]\n    action: deny\n    reason: sums are done by hand now\n');
    const recorded = JSON.parse(readFileSync(join(gateway.folder, 'agenttrail.yaml'), 'utf8')) as Record<string, unknown>;
    config = join(gateway.folder, 'rerun.yaml');
    writeFileSync(config, JSON.stringify({ ...recorded, policies: { dir: policies, default: 'allow' } }));
  });

  it('runs the read-only calls again through the gateway and its policy, and prints what changed (exit 1)', async () => {
    writeFileSync(noteFile(), 'third version\n');
    const rerun = await runAgenttrail(['replay', session, '--rerun', '--config', config], { env: { REPLAY_TOKEN_SOURCE: SECRET } });
    expect(rerun.code, rerun.stderr).toBe(1);
    const lines = rerun.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^rerun of session ${session} \\(log agenttrail\\.local/gateway, 7 tool calls\\) recorded as session (\\S+) of log agenttrail\\.local/gateway$`));
    const at = (name: string) => lines.findIndex((line) => line.includes(`  ${name} `));
    expect(lines[at('files__read_text_file')]).toMatch(/^DIFFERENT +entry \d+ {2}files__read_text_file \{"path":".*note\.txt"\}$/);
    expect(lines.slice(at('files__read_text_file') + 1, at('files__read_text_file') + 4)).toEqual([
      '           - first version',
      '           - of the note',
      '           + third version',
    ]);
    expect(rerun.stdout).toMatch(/\nsame +entry \d+ {2}everything__echo \{"message":"hello"\}\n/);
    expect(rerun.stdout).toMatch(/\nREFUSED +entry \d+ {2}everything__get-sum \{"a":"two","b":3\}: denied by policy \(rule no-sums\): sums are done by hand now\n/);
    expect(rerun.stdout).toMatch(/\nskipped +entry \d+ {2}everything__no-such-tool \{\}: the gateway's upstreams do not offer everything__no-such-tool now\n/);
    // The secret in get-env's result is redacted in both records, each with its own marker.
    expect(rerun.stdout).toMatch(/\nsame +entry \d+ {2}everything__get-env \{\}\n/);
    expect(rerun.stdout).toMatch(/\nskipped +entry \d+ {2}files__write_file .*: files__write_file is not marked read-only \(readOnlyHint\) by its server; --allow-side-effects runs it\n/);
    expect(rerun.stdout).toMatch(/\n2 same, 2 different, 1 refused, 2 skipped; agenttrail show \S+ reads the rerun\n$/);
    expect(rerun.stdout).not.toContain(SECRET);

    // The rerun is a session of its own in the same signed log, marked as a replay of the recorded one.
    const replaySession = /recorded as session (\S+) of log/.exec(lines[0]!)![1]!;
    const shown = await runAgenttrail(['show', replaySession, '--db', gateway.db]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^agent {4}agenttrail-replay, over cli, OS user /m);
    expect(shown.stdout).toContain(`replay.started  {"allowSideEffects":false,"calls":7,"replayOf":{"log":"agenttrail.local/gateway","session":"${session}"}}`);
    expect(shown.stdout).toMatch(/replay\.finished {2}\{"different":2,"refused":1,.*"same":2,"skipped":2\}/);
    expect(shown.stdout).toMatch(/tools\/call everything__get-sum {2}DENIED/);
    const verify = await runAgenttrail(['verify', '--db', gateway.db]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('runs the tools with side effects too when told, and gives --json', async () => {
    rmSync(writtenFile());
    const rerun = await runAgenttrail(['replay', session, '--rerun', '--config', config, '--allow-side-effects', '--json'], { env: { REPLAY_TOKEN_SOURCE: SECRET } });
    expect(rerun.code, rerun.stderr).toBe(1);
    const document = RerunDocumentSchema.parse(JSON.parse(rerun.stdout));
    expect(document.session).toBe(session);
    expect(document.counts).toEqual({ same: 3, different: 2, refused: 1, skipped: 1 });
    expect(document.calls.find((call) => call.name === 'files__write_file')).toMatchObject({ status: 'same', arguments: { path: writtenFile(), content: 'written by the agent' } });
    expect(readFileSync(writtenFile(), 'utf8')).toBe('written by the agent');
    expect(document.calls.filter((call) => call.name === 'files__read_text_file').map((call) => call.diff)).toEqual([
      ['- first version', '- of the note', '+ third version'],
      ['- second version', '+ third version'],
    ]);
  });

  it('exits 0 when every call that ran gave what was recorded', async () => {
    const echoOnly = await recordEchoSession();
    const rerun = await runAgenttrail(['replay', echoOnly, '--rerun', '--config', config], { env: { REPLAY_TOKEN_SOURCE: SECRET } });
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/\n1 same, 0 different, 0 refused, 0 skipped; /);
  });
});

function connectReplayOverStdio(revision: ClientRevision): Promise<ConnectedClient> {
  return connectClient({ transport: 'stdio', server: { command: process.execPath, args: [AGENTTRAIL_BIN, 'replay', session, '--serve', '--db', gateway.db] }, revision });
}

async function recordEchoSession(): Promise<string> {
  const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'echo-agent' });
  await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'once more' } });
  await agent.close();
  const entries = await waitForEntries(gateway.entries, (all) => all.some((entry) => entry.kind === 'tool.result' && entry.agent.client?.name === 'echo-agent'));
  return entries.find((entry) => entry.agent.client?.name === 'echo-agent')!.session;
}

async function startReplayOverHttp(replayed: string, db: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [AGENTTRAIL_BIN, 'replay', replayed, '--serve', '--port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replay did not start: ${output}`)), 15_000);
    child.stdout!.on('data', () => {
      const match = /AgentTrail is replaying session \S+ of log \S+ \(\d+ tools listed, 7 tool calls recorded\) at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`replay exited with ${code}: ${output}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The status of a POST that names `host` in its Host header (which fetch does not let one set). */
function statusWithHost(url: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    sent.once('error', reject);
    sent.end('{}');
  });
}

function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('');
}
