import { z } from 'zod';
import { generateAccessToken, hashAccessToken } from '../auth/access-token.js';
import { PrincipalNameSchema, PrincipalRoleSchema } from '../auth/principal.js';
import type { Principal } from '../auth/principal.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { LIFE_CYCLE_ENTRY_KINDS, statusAfter } from '../auth/principal-life-cycle.js';
import type { LifeCycleAction } from '../auth/principal-life-cycle.js';
import { applyPrincipalChange, insertPrincipal, listPrincipals, readPrincipal } from '../store/principal-queries.js';
import type { PrincipalRecord } from '../store/principal-queries.js';
import { LifeCycleOptionsShape, lifeCycleConfig, printTable, readForList, recordLifeCycleChange } from './life-cycle-change.js';
import type { LifeCycleOptions, LifeCycleRows } from './life-cycle-change.js';
import { UsageError } from './usage-error.js';

export const AgentsOptionsSchema = z.strictObject({ role: PrincipalRoleSchema.optional(), ...LifeCycleOptionsShape });
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
  const config = await lifeCycleConfig(options, env);
  if (parsedAction.data === 'list') {
    if (name !== undefined) throw new UsageError(`agents list takes no name, got '${name}'`);
    await listAgents(options, await readForList(options, config, env, listPrincipals));
    return;
  }
  if (name === undefined) throw new UsageError(`agents ${parsedAction.data} needs a NAME`);
  if (extra !== undefined) throw new UsageError(`agents ${parsedAction.data} takes one NAME, got also '${extra}'`);
  const parsedName = PrincipalNameSchema.safeParse(name);
  if (!parsedName.success) throw new UsageError(`invalid name ${JSON.stringify(name)}: ${parsedName.error.issues[0]!.message}`);
  await changePrincipal(parsedAction.data, parsedName.data, options, config, env);
}

const PRINCIPAL_ROWS: LifeCycleRows<PrincipalRecord> = { noun: 'principal', command: 'agents', read: readPrincipal };

async function changePrincipal(action: LifeCycleAction, name: string, options: AgentsOptions, config: GatewayConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const token = action === 'add' || action === 'rotate' ? generateAccessToken() : undefined;
  const tokenHash = token === undefined ? undefined : hashAccessToken(token);
  const { entry, payload: principal } = await recordLifeCycleChange(
    PRINCIPAL_ROWS,
    name,
    {
      entry: (current): { kind: string; payload: Principal } => ({
        kind: LIFE_CYCLE_ENTRY_KINDS[action],
        payload: { name, role: current?.role ?? options.role ?? 'agent', status: statusAfter(action, name, current) },
      }),
      apply: (client, current, principal, recorded) =>
        current === undefined && tokenHash !== undefined
          ? insertPrincipal(client, { name, status: principal.status, role: principal.role, tokenHash, ...recorded })
          : applyPrincipalChange(client, { name, status: principal.status, tokenHash, ...recorded }),
    },
    options,
    config,
    env,
  );
  report(action, principal, { log: config.log.origin, index: entry.index }, token, options.json === true);
}

function listAgents(options: LifeCycleOptions, records: Awaited<ReturnType<typeof listPrincipals>>): void {
  const principals = records.map(({ name, role, status, created, updated }) => ({ name, role, status, created, updated }));
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ principals })}\n`);
    return;
  }
  if (principals.length === 0) {
    process.stderr.write('agenttrail: no principals yet (add one with agenttrail agents add NAME)\n');
    return;
  }
  printTable(['NAME', 'ROLE', 'STATUS', 'UPDATED'], principals.map((p) => [p.name, p.role, p.status, p.updated]));
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
