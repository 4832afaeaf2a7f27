import { z } from 'zod';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import { ConfigError, formatConfigIssue } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config-file.js';
import type { Entry } from '../ledger/entry.js';
import { replayPolicy } from '../policy/policy-replay.js';
import type { PolicyReplay, ReplayDecision } from '../policy/policy-replay.js';
import { compilePolicySet } from '../policy/policy-set.js';
import type { ApproverGroups, DefaultOutcome, PolicySet } from '../policy/policy-set.js';
import { explainPolicy } from '../policy/rule-explanation.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { readPolicyFolder } from './policy-folder.js';
import { UsageError } from './usage-error.js';

export const PolicyOptionsSchema = z.strictObject({
  config: z.string().min(1).optional(),
  db: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  default: z.enum(['allow', 'deny'], 'expected allow or deny').optional(),
  json: z.boolean().default(false),
});
export type PolicyOptions = z.infer<typeof PolicyOptionsSchema>;

const EXIT_OK = 0;
const EXIT_DIFFERENT = 1;
const EXIT_INVALID = 2;
const PAGE_ENTRIES = 5000;

/** `agenttrail policy check [DIR]` and `agenttrail policy test [DIR]`: returns the exit code. */
export async function runPolicy(positionals: readonly string[], options: PolicyOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const [action, dir, extra] = positionals;
  if (action !== 'check' && action !== 'test') {
    throw new UsageError(action === undefined ? 'policy needs an action: check or test' : `unknown policy action '${action}' (actions: check, test)`);
  }
  if (extra !== undefined) throw new UsageError(`policy ${action} takes one folder, got also '${extra}'`);
  const config = options.config === undefined ? undefined : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  const folder = dir ?? config?.policies?.dir ?? 'policies';
  const defaultOutcome = options.default ?? config?.policies?.default ?? 'deny';
  const approverGroups = config?.approvers === undefined ? undefined : new ApproverRegistry(config.approvers).groups;
  const policy = await compileOrReport(folder, defaultOutcome, approverGroups, options.json);
  if (policy === undefined) return EXIT_INVALID;
  if (action === 'check') {
    printCheck(policy, folder, options.json);
    return EXIT_OK;
  }
  const replay = await replayLog(policy, resolveDatabaseUrl(options.db, config?.log.db ?? 'file:agenttrail.db', env), options.log ?? config?.log.origin, env);
  printReplay(replay, options.json);
  return replay.differences.length === 0 ? EXIT_OK : EXIT_DIFFERENT;
}

/** The compiled folder, or undefined once every problem is printed (file:line:col: path: reason). */
async function compileOrReport(folder: string, defaultOutcome: DefaultOutcome, approverGroups: ApproverGroups | undefined, json: boolean): Promise<PolicySet | undefined> {
  try {
    return compilePolicySet(await readPolicyFolder(folder), defaultOutcome, approverGroups);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.issues.length > 0 ? error.issues.map(formatConfigIssue) : [error.message];
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, folder, problems: error.issues.length > 0 ? error.issues : [{ reason: error.message }] }, null, 2)}\n`);
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    process.stderr.write(`agenttrail: the policy in ${folder} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'})\n`);
    return undefined;
  }
}

function printCheck(policy: PolicySet, folder: string, json: boolean): void {
  const { rules, defaultText } = explainPolicy(policy);
  if (json) {
    const document = { ok: true, folder, version: policy.version, default: policy.defaultOutcome, files: policy.files, rules, defaultText };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  let file: string | undefined;
  for (const rule of rules) {
    if (rule.file !== file) lines.push((file = rule.file));
    lines.push(`  ${rule.id} (line ${rule.line}): ${rule.text}`);
    if (rule.unreachableAfter !== undefined) lines.push(`    warning: never reached, rule ${rule.unreachableAfter} above decides every call`);
  }
  if (policy.files.length === 0) lines.push(`${folder} holds no policy files (*.yaml, *.yml).`);
  lines.push(defaultText);
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  lines.push(`valid: ${count(policy.rules.length, 'rule')} in ${count(policy.files.length, 'file')}, policy version ${policy.version}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function replayLog(policy: PolicySet, url: string, log: string | undefined, env: NodeJS.ProcessEnv): Promise<PolicyReplay & { log: string; database: string }> {
  const store = await openStore({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN, readOnly: true });
  try {
    const origin = await chooseReplayedLog(store, log);
    return { log: origin, database: store.url, ...(await replayPolicy(policy, entryPages(store, origin))) };
  } finally {
    await store.close();
  }
}

/** --log (or the config's log.origin), else the database's only log. */
async function chooseReplayedLog(store: Store, log: string | undefined): Promise<string> {
  const logs = await store.logs();
  if (log !== undefined && !logs.includes(log)) throw new Error(`${store.url} has no log "${log}" (logs: ${logs.join(', ') || 'none'})`);
  if (log !== undefined) return log;
  if (logs.length === 1) return logs[0]!;
  if (logs.length === 0) throw new Error(`${store.url} holds no log to replay`);
  throw new UsageError(`${store.url} holds several logs (${logs.join(', ')}); choose one with --log ORIGIN`);
}

async function* entryPages(store: Store, log: string): AsyncGenerator<Entry[]> {
  let afterIndex = -1;
  for (;;) {
    const page = await store.entries(log, { afterIndex, limit: PAGE_ENTRIES });
    if (page.length === 0) return;
    yield page;
    afterIndex = page[page.length - 1]!.index;
  }
}

function printReplay(replay: PolicyReplay & { log: string; database: string }, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(replay, null, 2)}\n`);
    return;
  }
  const rows = replay.differences.map((call) => [
    String(call.index),
    call.time,
    call.agent ?? '(anonymous)',
    `${call.server}/${call.target}`,
    describeDecision(call.recorded),
    describeDecision(call.proposed),
  ]);
  const lines = [`Replayed ${replay.calls} recorded calls of log ${replay.log} against policy ${replay.policyVersion.slice(0, 12)}:`];
  if (rows.length > 0) lines.push(...table([['INDEX', 'TIME', 'AGENT', 'CALL', 'RECORDED', 'PROPOSED'], ...rows]));
  lines.push(
    rows.length === 0
      ? 'Every call would be decided as it was.'
      : `${rows.length} of ${replay.calls} calls would be decided differently.`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

function describeDecision(decision: ReplayDecision): string {
  if (decision.policyVersion === undefined) return `${decision.outcome} (no policy)`;
  return `${decision.outcome} by ${decision.rule === undefined ? 'default' : decision.rule}`;
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}
