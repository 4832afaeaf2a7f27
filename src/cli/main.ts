import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { AGENTTRAIL_VERSION } from '../version.js';
import { AGENTS_HELP, APPROVALS_HELP, CREDENTIALS_HELP, EXPORT_HELP, INGEST_HELP, KEYS_HELP, MAIN_HELP, POLICY_HELP, PRUNE_HELP, REPLAY_HELP, SEARCH_HELP, SERVE_HELP, SESSIONS_HELP, SHOW_HELP, VERIFY_HELP, WRAP_HELP } from './help-texts.js';
import { UsageError } from './usage-error.js';

const EXIT_OK = 0;
const EXIT_VERIFICATION_FAILED = 1;
const EXIT_USAGE_CONFIG_IO = 2;

type OptionTypes = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
const STRING = { type: 'string' } as const;
const BOOLEAN = { type: 'boolean' } as const;

/** Runs the `agenttrail` command line and returns its exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT_USAGE_CONFIG_IO : EXIT_OK;
      case '--version':
        process.stdout.write(`${AGENTTRAIL_VERSION}\n`);
        return EXIT_OK;
      case 'serve': {
        const parsed = parseCommandLine(rest, { config: STRING, db: STRING, key: STRING, host: STRING, port: STRING });
        if (parsed.help) return printHelp(SERVE_HELP);
        const { runServe, ServeOptionsSchema } = await import('./serve-command.js');
        if (parsed.positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${parsed.positionals[0]}'`);
        await runServe(validate(ServeOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'wrap': {
        const separator = rest.indexOf('--');
        const own = separator < 0 ? rest : rest.slice(0, separator);
        const parsed = parseCommandLine(own, { config: STRING, db: STRING, key: STRING, name: STRING });
        if (parsed.help) return printHelp(WRAP_HELP);
        const { runWrap, WrapOptionsSchema } = await import('./wrap-command.js');
        const serverCommand = separator < 0 ? parsed.positionals : rest.slice(separator + 1);
        if (separator >= 0 && parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}' before --`);
        await runWrap(validate(WrapOptionsSchema, parsed.values), serverCommand, env);
        return EXIT_OK;
      }
      case 'keys': {
        const parsed = parseCommandLine(rest, { key: STRING, origin: STRING, config: STRING, db: STRING });
        if (parsed.help) return printHelp(KEYS_HELP);
        const { runKeys, KeysOptionsSchema } = await import('./keys-command.js');
        const [action, extra] = parsed.positionals;
        if (extra !== undefined) throw new UsageError(`keys takes one action, got also '${extra}'`);
        await runKeys(action, validate(KeysOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'agents': {
        const parsed = parseCommandLine(rest, { role: STRING, db: STRING, config: STRING, key: STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(AGENTS_HELP);
        const { runAgents, AgentsOptionsSchema } = await import('./agents-command.js');
        await runAgents(parsed.positionals, validate(AgentsOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'credentials': {
        const parsed = parseCommandLine(rest, { db: STRING, config: STRING, key: STRING, json: { type: 'boolean' } });
        if (parsed.help) return printHelp(CREDENTIALS_HELP);
        const { runCredentials, CredentialsOptionsSchema } = await import('./credentials-command.js');
        await runCredentials(parsed.positionals, validate(CredentialsOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'verify': {
        const parsed = parseCommandLine(rest, {
          db: STRING,
          bundle: STRING,
          key: { type: 'string', multiple: true },
          'witness-key': { type: 'string', multiple: true },
          checkpoint: STRING,
          log: STRING,
          json: BOOLEAN,
        });
        if (parsed.help) return printHelp(VERIFY_HELP);
        const { runVerify, VerifyOptionsSchema } = await import('./verify-command.js');
        if (parsed.positionals.length > 0) throw new UsageError(`verify takes no arguments, got '${parsed.positionals[0]}'`);
        return (await runVerify(validate(VerifyOptionsSchema, parsed.values), env)) ? EXIT_OK : EXIT_VERIFICATION_FAILED;
      }
      case 'export': {
        const parsed = parseCommandLine(rest, {
          db: STRING,
          format: STRING,
          session: STRING,
          log: STRING,
          key: { type: 'string', multiple: true },
          out: STRING,
          endpoint: STRING,
          header: { type: 'string', multiple: true },
        });
        if (parsed.help) return printHelp(EXPORT_HELP);
        const { runExport, ExportOptionsSchema } = await import('./export-command.js');
        if (parsed.positionals.length > 0) throw new UsageError(`export takes no arguments, got '${parsed.positionals[0]}'`);
        return (await runExport(validate(ExportOptionsSchema, parsed.values), env)) ? EXIT_OK : EXIT_VERIFICATION_FAILED;
      }
      case 'policy': {
        const parsed = parseCommandLine(rest, { config: STRING, db: STRING, log: STRING, default: STRING, json: { type: 'boolean' } });
        if (parsed.help) return printHelp(POLICY_HELP);
        const { runPolicy, PolicyOptionsSchema } = await import('./policy-command.js');
        return await runPolicy(parsed.positionals, validate(PolicyOptionsSchema, parsed.values), env);
      }
      case 'approvals': {
        const parsed = parseCommandLine(rest, { config: STRING, db: STRING, key: STRING, reason: STRING, json: { type: 'boolean' } });
        if (parsed.help) return printHelp(APPROVALS_HELP);
        const { runApprovals, ApprovalsOptionsSchema } = await import('./approvals-command.js');
        await runApprovals(parsed.positionals, validate(ApprovalsOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'sessions': {
        const parsed = parseCommandLine(rest, { db: STRING, log: STRING, agent: STRING, tool: STRING, since: STRING, until: STRING, outcome: STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(SESSIONS_HELP);
        const { runSessions, SessionsOptionsSchema } = await import('./sessions-command.js');
        if (parsed.positionals.length > 0) throw new UsageError(`sessions takes no arguments, got '${parsed.positionals[0]}'`);
        await runSessions(validate(SessionsOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'show': {
        const parsed = parseCommandLine(rest, { db: STRING, log: STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(SHOW_HELP);
        const { runShow, ShowOptionsSchema } = await import('./show-command.js');
        const session = onePositional(parsed.positionals, 'show', 'SESSION', 'show needs the SESSION to show (agenttrail sessions lists them)');
        await runShow(session, validate(ShowOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'replay': {
        const parsed = parseCommandLine(rest, {
          serve: BOOLEAN,
          rerun: BOOLEAN,
          db: STRING,
          log: STRING,
          port: STRING,
          config: STRING,
          key: STRING,
          'allow-side-effects': BOOLEAN,
          json: BOOLEAN,
        });
        if (parsed.help) return printHelp(REPLAY_HELP);
        const { runReplay, ReplayOptionsSchema } = await import('./replay-command.js');
        const session = onePositional(parsed.positionals, 'replay', 'SESSION', 'replay needs the SESSION to replay (agenttrail sessions lists them)');
        return (await runReplay(session, validate(ReplayOptionsSchema, parsed.values), env)) ? EXIT_OK : EXIT_VERIFICATION_FAILED;
      }
      case 'search': {
        const parsed = parseCommandLine(rest, { db: STRING, log: STRING, limit: STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(SEARCH_HELP);
        const { runSearch, SearchOptionsSchema } = await import('./search-command.js');
        await runSearch(parsed.positionals, validate(SearchOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'ingest': {
        const parsed = parseCommandLine(rest, { source: STRING, config: STRING, db: STRING, key: STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(INGEST_HELP);
        const { runIngest, IngestOptionsSchema } = await import('./ingest-command.js');
        const file = onePositional(parsed.positionals, 'ingest', 'FILE', 'ingest needs the FILE of events (JSON Lines; - reads standard input)');
        await runIngest(file, validate(IngestOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      case 'prune': {
        const parsed = parseCommandLine(rest, { config: STRING, db: STRING, key: STRING, 'older-than': STRING, json: BOOLEAN });
        if (parsed.help) return printHelp(PRUNE_HELP);
        const { runPrune, PruneOptionsSchema } = await import('./prune-command.js');
        if (parsed.positionals.length > 0) throw new UsageError(`prune takes no arguments, got '${parsed.positionals[0]}'`);
        await runPrune(validate(PruneOptionsSchema, parsed.values), env);
        return EXIT_OK;
      }
      default:
        throw new UsageError(
          `unknown command '${command}' (commands: serve, wrap, verify, sessions, show, replay, search, export, ingest, prune, keys, agents, credentials, policy, approvals; see agenttrail --help)`,
        );
    }
  } catch (error) {
    process.stderr.write(`agenttrail: ${oneLine(error)}\n`);
    if (error instanceof UsageError) process.stderr.write(`Try 'agenttrail ${command ?? ''} --help'.\n`);
    return EXIT_USAGE_CONFIG_IO;
  }
}

function parseCommandLine(args: readonly string[], options: OptionTypes) {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const { help, ...rest } = values;
    return { values: rest, positionals, help: help === true };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The one argument a command takes (`what`, e.g. SESSION); `missing` says what to give when there is none. */
function onePositional(positionals: readonly string[], command: string, what: string, missing: string): string {
  const [value, extra] = positionals;
  if (value === undefined) throw new UsageError(missing);
  if (extra !== undefined) throw new UsageError(`${command} takes one ${what}, got also '${extra}'`);
  return value;
}

function validate<T extends z.ZodType>(schema: T, values: unknown): z.infer<T> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new UsageError(`--${issue.path.join('.')}: ${issue.message}`);
}

function printHelp(text: string): number {
  process.stdout.write(text);
  return EXIT_OK;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}
