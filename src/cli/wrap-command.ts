import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { z } from 'zod';
import { defaultConfig, stdioServerConfigSchema } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { serveAgentOverStdio } from './agent-stdio-server.js';
import { openAuditedGateway } from './audited-gateway.js';
import { onShutdownSignal } from './shutdown.js';
import { UsageError } from './usage-error.js';

export const WrapOptionsSchema = z.strictObject({
  config: z.string().min(1).optional(),
  db: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected letters, digits, "_" and "-"').optional(),
});
export type WrapOptions = z.infer<typeof WrapOptionsSchema>;

/** `agenttrail wrap -- COMMAND ARGS`: resolves when the agent closes stdin (or on SIGINT/SIGTERM). */
export async function runWrap(options: WrapOptions, command: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [program, ...args] = command;
  if (program === undefined) throw new UsageError('wrap needs the server command after --, e.g. agenttrail wrap -- npx -y @modelcontextprotocol/server-memory');
  const config = options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  const name = options.name ?? serverNameFor(program, args);
  // The wrapped server gets this process's whole environment: a desktop client sets the server's
  // variables (API tokens and the like) on the command it starts, which is now this one.
  const server = stdioServerConfigSchema.parse({ command: program, args, env: definedValues(env) });
  const { gateway, database, closeWatches } = await openAuditedGateway(config, new Map([[name, server]]), options, env, {
    prefixNames: false,
    onStderrLine: (_server, line) => process.stderr.write(`${line}\n`),
  });
  const parentCommand = await commandLineOf(process.ppid);
  const agent = { transport: 'stdio' as const, user: userInfo().username, parentPid: process.ppid, ...(parentCommand === undefined ? {} : { parentCommand }) };
  const handle = serveAgentOverStdio(gateway, agent, (error) => process.stderr.write(`agenttrail: ${error.message}\n`));
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    onShutdownSignal(resolve);
  });
  await closeWatches();
  await gateway.close();
  await handle.close();
  await database.close();
}

/** `npx -y @modelcontextprotocol/server-filesystem /dir` is logged as `server-filesystem`. */
function serverNameFor(program: string, args: readonly string[]): string {
  const launcher = /^(npx|node|uvx|bunx|pnpm|yarn|deno|python3?|docker)$/.test(basename(program));
  const subject = launcher ? args.find((arg) => !arg.startsWith('-')) ?? program : program;
  const installedPackage = /node_modules\/(?:@[^/]+\/)?([^/]+)\//.exec(subject)?.[1];
  const name = basename((installedPackage ?? subject).replace(/@[^/@]*$/, '')).replace(/\.(m?js|cjs|ts|py)$/, '').replace(/[^A-Za-z0-9_-]+/g, '-');
  return /^[A-Za-z0-9]/.test(name) ? name : `server${name}`;
}

// Long enough to tell one desktop client from another; a parent's secrets in it are redacted like any payload.
const MAX_PARENT_COMMAND_CHARS = 300;

/** The command line of a process (Linux /proc); undefined where it cannot be read. */
async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const command = raw.split('\0').filter((part) => part !== '').join(' ');
    return command === '' ? undefined : command.slice(0, MAX_PARENT_COMMAND_CHARS);
  } catch {
    return undefined;
  }
}

function definedValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((pair): pair is [string, string] => pair[1] !== undefined));
}
