import { z } from 'zod';
import type { CredentialConfig, GatewayConfig } from '../config/config-schema.js';
import { credentialFingerprint } from '../credentials/credential-fingerprint.js';
import { CREDENTIAL_ENTRY_KINDS, credentialStatusAfter } from '../credentials/credential-life-cycle.js';
import type { CredentialAction, CredentialStatus } from '../credentials/credential-life-cycle.js';
import { LifeCycleError } from '../auth/principal-life-cycle.js';
import { provisionedSecret, readCredential } from '../credentials/credential-sources.js';
import { applyCredentialChange, insertCredentialRecord, listCredentialRecords, readCredentialRecord } from '../store/credential-queries.js';
import type { CredentialRecord } from '../store/credential-queries.js';
import { resolveKeyPath } from './gateway-key.js';
import { LifeCycleOptionsShape, lifeCycleConfig, printTable, readForList, recordLifeCycleChange } from './life-cycle-change.js';
import type { LifeCycleOptions, LifeCycleRows } from './life-cycle-change.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';
import { UsageError } from './usage-error.js';

export const CredentialsOptionsSchema = z.strictObject(LifeCycleOptionsShape);
export type CredentialsOptions = z.infer<typeof CredentialsOptionsSchema>;

const CredentialsActionSchema = z.enum(['add', 'list', 'rotate', 'revoke'], {
  error: (issue) => `unknown credentials action ${JSON.stringify(issue.input)} (actions: add, list, rotate, revoke)`,
});

/** What a credential's entries and the command's output say of it: never the secret. */
interface CredentialReport {
  readonly name: string;
  readonly status: CredentialStatus;
  readonly fingerprint?: string | undefined;
}

/** `agenttrail credentials add NAME | rotate NAME | revoke NAME | list`. */
export async function runCredentials(positionals: readonly string[], options: CredentialsOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const [action, name, extra] = positionals;
  const parsedAction = CredentialsActionSchema.safeParse(action);
  if (!parsedAction.success) {
    throw new UsageError(action === undefined ? 'credentials needs an action: add, list, rotate or revoke' : parsedAction.error.issues[0]!.message);
  }
  const config = await lifeCycleConfig(options, env);
  if (parsedAction.data === 'list') {
    if (name !== undefined) throw new UsageError(`credentials list takes no name, got '${name}'`);
    listCredentials(options, config, await readForList(options, config, env, listCredentialRecords));
    return;
  }
  if (name === undefined) throw new UsageError(`credentials ${parsedAction.data} needs a NAME`);
  if (extra !== undefined) throw new UsageError(`credentials ${parsedAction.data} takes one NAME, got also '${extra}'`);
  await changeCredential(parsedAction.data, name, options, config, env);
}

const CREDENTIAL_ROWS: LifeCycleRows<CredentialRecord> = { noun: 'credential', command: 'credentials', read: readCredentialRecord };

async function changeCredential(action: CredentialAction, name: string, options: CredentialsOptions, config: GatewayConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const configured = config.credentials[name];
  // Add and rotate record the secret now at the credential's source; revoke needs no secret, which may be gone already.
  const fingerprint = action === 'revoke' ? undefined : await fingerprintAtSource(name, configured, options, config, env);
  const { entry, payload: credential } = await recordLifeCycleChange(
    CREDENTIAL_ROWS,
    name,
    {
      entry: (current): { kind: string; payload: CredentialReport } => {
        if (current === undefined && configured === undefined) throw new LifeCycleError(`there is no credential named "${name}" in the config or the database`);
        const status = credentialStatusAfter(action, name, current, fingerprint);
        return { kind: CREDENTIAL_ENTRY_KINDS[action], payload: { name, status, fingerprint: fingerprint ?? current?.fingerprint ?? undefined } };
      },
      apply: (client, current, { status }, recorded) =>
        (current === undefined ? insertCredentialRecord : applyCredentialChange)(client, { name, status, fingerprint, ...recorded }),
    },
    options,
    config,
    env,
  );
  report(action, credential, { log: config.log.origin, index: entry.index }, options.json === true);
}

/** The keyed fingerprint of the credential's secret as its source gives it now (a token exchange's client secret). */
async function fingerprintAtSource(
  name: string,
  credential: CredentialConfig | undefined,
  options: LifeCycleOptions,
  config: GatewayConfig,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (credential === undefined) {
    const names = Object.keys(config.credentials);
    throw new Error(
      `there is no credential "${name}" in ${options.config === undefined ? 'the config (none was given)' : options.config}` +
        `${names.length === 0 ? '' : ` (credentials: ${names.join(', ')})`}; pass the gateway's --config, which says where its secret comes from`,
    );
  }
  const secrets = await readCredential(name, credential.source, nodeSecretReader(env));
  const logSecret = await loadOrCreateLogSecret(resolveLogSecretPath(config.log.secret, resolveKeyPath(options.key, config.log.key, env)));
  return credentialFingerprint(logSecret, provisionedSecret(secrets));
}

function listCredentials(options: LifeCycleOptions, config: GatewayConfig, records: Awaited<ReturnType<typeof listCredentialRecords>>): void {
  const recorded = records.map(({ name, status, fingerprint, created, updated }) => ({ name, status, fingerprint, created, updated }));
  // Configured credentials that no command has recorded yet are delegated all the same.
  const unrecorded = Object.keys(config.credentials)
    .filter((name) => !records.some((record) => record.name === name))
    .map((name) => ({ name, status: 'unrecorded' as const }));
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ credentials: [...recorded, ...unrecorded] })}\n`);
    return;
  }
  if (recorded.length + unrecorded.length === 0) {
    process.stderr.write('agenttrail: no credentials recorded (add one with agenttrail credentials add NAME --config FILE)\n');
    return;
  }
  printTable(
    ['NAME', 'STATUS', 'FINGERPRINT', 'UPDATED'],
    [
      ...recorded.map((c) => [c.name, c.status, c.fingerprint === null ? '-' : `${c.fingerprint.slice(0, 'hmac-sha256:'.length + 16)}…`, c.updated]),
      ...unrecorded.map((c) => [c.name, c.status, '-', '-']),
    ],
  );
}

const PAST_TENSE: Readonly<Record<CredentialAction, string>> = { add: 'added', rotate: 'rotated', revoke: 'revoked' };

function report(action: CredentialAction, credential: CredentialReport, entry: { log: string; index: number }, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ action, credential, entry })}\n`);
    return;
  }
  const fingerprint = credential.fingerprint === undefined ? '' : ` (fingerprint ${credential.fingerprint})`;
  process.stderr.write(`agenttrail: ${PAST_TENSE[action]} credential "${credential.name}"${fingerprint}, recorded as entry ${entry.index} of log "${entry.log}"\n`);
  if (action === 'revoke') process.stderr.write('agenttrail: a running gateway refuses every call that needs it from its next request on\n');
}
