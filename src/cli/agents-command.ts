import { userInfo } from 'node:os';
import type { Client } from '@libsql/client';
import { z } from 'zod';
import { generateAccessToken, hashAccessToken } from '../auth/access-token.js';
import { PrincipalNameSchema, PrincipalRoleSchema } from '../auth/principal.js';
import type { Principal } from '../auth/principal.js';
import { LIFE_CYCLE_ENTRY_KINDS, statusAfter } from '../auth/principal-life-cycle.js';
import type { LifeCycleAction } from '../auth/principal-life-cycle.js';
import { defaultConfig } from '../config/config-schema.js';
import type { LogConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { connectDatabase, primaryDatabase } from '../store/database-connection.js';
import type { DatabaseOptions } from '../store/database-connection.js';
import { applyMigrations } from '../store/migrations.js';
import { applyPrincipalChange, insertPrincipal, listPrincipals, readPrincipal } from '../store/principal-queries.js';
import type { AuditDatabase } from './audit-database.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';
import { UsageError } from './usage-error.js';

export const AgentsOptionsSchema = z.strictObject({
  role: PrincipalRoleSchema.optional(),
  db: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  json: z.boolean().optional(),
});
export type AgentsOptions = z.infer<typeof AgentsOptionsSchema>;

const AgentsActionSchema = z.enum(['add', 'list', 'suspend', 'resume', 'revoke', 'rotate'], {
  error: (issue) => `unknown agents action ${JSON.stringify(issue.input)} (actions: add, list, suspend, resume, revoke, rotate)`,
});

const TOKEN_NOTICE = 'the token is shown only this once: store it now (the database keeps only its hash)';

/** `agenttrail agents add NAME [--role ROLE] | list | suspend NAME | resume NAME | revoke NAME | rotate NAME`. */
export async function runAgents(
  positionals: readonly string[],
  options: AgentsOptions,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const [action, name, extra] = positionals;
  const parsedAction = AgentsActionSchema.safeParse(action);
  if (!parsedAction.success) {
    throw new UsageError(action === undefined ? 'agents needs an action: add, list, suspend, resume, revoke or rotate' : parsedAction.error.issues[0]!.message);
  }
  if (options.role !== undefined && parsedAction.data !== 'add') throw new UsageError('--role applies to agents add only');
  const config = options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  if (parsedAction.data === 'list') {
    if (name !== undefined) throw new UsageError(`agents list takes no name, got '${name}'`);
    await listAgents(resolveDatabase(options.db, config.log, env), options.json === true);
    return;
  }
  if (name === undefined) throw new UsageError(`agents ${parsedAction.data} needs a NAME`);
  if (extra !== undefined) throw new UsageError(`agents ${parsedAction.data} takes one NAME, got also '${extra}'`);
  const parsedName = PrincipalNameSchema.safeParse(name);
  if (!parsedName.success) throw new UsageError(`invalid name ${JSON.stringify(name)}: ${parsedName.error.issues[0]!.message}`);
  await changePrincipal(parsedAction.data, parsedName.data, options, config.log, env);
}

async function listAgents(database: DatabaseOptions, json: boolean): Promise<void> {
  const client = await connectDatabase(database);
  try {
    await applyMigrations(client);
    const principals = (await listPrincipals(client)).map(({ name, role, status, created, updated }) => ({ name, role, status, created, updated }));
    if (json) {
      process.stdout.write(`${JSON.stringify({ principals })}\n`);
      return;
    }
    if (principals.length === 0) {
      process.stderr.write('agenttrail: no principals yet (add one with agenttrail agents add NAME)\n');
      return;
    }
    const width = Math.max(4, ...principals.map((p) => p.name.length));
    process.stdout.write(`${'NAME'.padEnd(width)}  ROLE      STATUS     UPDATED\n`);
    for (const p of principals) process.stdout.write(`${p.name.padEnd(width)}  ${p.role.padEnd(8)}  ${p.status.padEnd(9)}  ${p.updated}\n`);
  } finally {
    client.close();
  }
}

/**
 * Write-ahead, like a tool call: the ledger entry is durable first, and only then does the row
 * change, so a log that cannot be written changes nothing. A crash between the two leaves the log
 * ahead of the row; running the same command again records the change again and applies it. The
 * row remembers the entry that set it and only a later entry of the same log may change it, so
 * two operators acting on one principal at once leave the row as the log's later entry says.
 */
async function changePrincipal(
  action: LifeCycleAction,
  name: string,
  options: AgentsOptions,
  log: LogConfig,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const origin = log.origin;
  // A change reads the principal as it is now: on the server, not in a replica that may lag it.
  const target = primaryDatabase(resolveDatabase(options.db, log, env));
  const signer = await loadOrCreateGatewayKey(resolveKeyPath(options.key, log.key, env), origin);
  const database = await openAuditDatabase(target, origin, signer);
  let client: Client | undefined;
  try {
    client = await connectDatabase(target);
    const current = await readPrincipal(client, name);
    await assertSameLog(database, origin, current?.log);
    const principal: Principal = { name, role: current?.role ?? options.role ?? 'agent', status: statusAfter(action, name, current) };
    const token = action === 'add' || action === 'rotate' ? generateAccessToken() : undefined;
    const entry = await database.appender.append({
      v: 1,
      time: new Date().toISOString(),
      kind: LIFE_CYCLE_ENTRY_KINDS[action],
      session: 'agents',
      agent: { transport: 'cli', user: userInfo().username },
      payload: principal,
    });
    const tokenHash = token === undefined ? undefined : hashAccessToken(token);
    const change = { name, status: principal.status, time: entry.time, log: origin, entry: entry.index };
    const applied =
      current === undefined && tokenHash !== undefined
        ? await insertPrincipal(client, { ...change, role: principal.role, tokenHash })
        : await applyPrincipalChange(client, { ...change, tokenHash });
    if (!applied) {
      throw new Error(
        `"${name}" was changed by another agenttrail process while this one recorded ${entry.kind} (entry ${entry.index} of log "${origin}"), ` +
          'so it did not take effect; see agenttrail agents list',
      );
    }
    report(action, principal, { log: origin, index: entry.index }, token, options.json === true);
  } finally {
    client?.close();
    await database.close();
  }
}

/**
 * A principal's changes stay in the log that recorded it, and no change starts a log beside the
 * gateway's (say, under the default origin because --config was left out).
 */
async function assertSameLog(database: AuditDatabase, origin: string, principalLog: string | undefined): Promise<void> {
  if (principalLog !== undefined && principalLog !== origin) {
    throw new Error(`this principal is recorded in log "${principalLog}", not "${origin}"; pass the gateway's --config`);
  }
  const logs = await database.store.logs();
  if (principalLog === undefined && logs.length > 0 && !logs.includes(origin)) {
    throw new Error(`the database holds no log "${origin}" (it holds ${logs.map((log) => `"${log}"`).join(', ')}); pass the gateway's --config`);
  }
}

const PAST_TENSE: Readonly<Record<LifeCycleAction, string>> = {
  add: 'added',
  suspend: 'suspended',
  resume: 'resumed',
  revoke: 'revoked',
  rotate: 'rotated the token of',
};

function report(
  action: LifeCycleAction,
  principal: Principal,
  entry: { log: string; index: number },
  token: string | undefined,
  json: boolean,
): void {
  if (json) {
    const document = { action, principal, entry, ...(token === undefined ? {} : { token, note: TOKEN_NOTICE }) };
    process.stdout.write(`${JSON.stringify(document)}\n`);
    return;
  }
  process.stderr.write(`agenttrail: ${PAST_TENSE[action]} ${principal.role} "${principal.name}" (now ${principal.status}), recorded as entry ${entry.index} of log "${entry.log}"\n`);
  if (token !== undefined) {
    process.stderr.write(`agenttrail: ${TOKEN_NOTICE}\n`);
    process.stdout.write(`${token}\n`);
  }
}
