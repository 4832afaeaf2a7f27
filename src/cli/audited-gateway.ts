import { userInfo } from 'node:os';
import type { CredentialSource, GatewayConfig, ServerConfig } from '../config/config-schema.js';
import { readCredentialValues } from '../credentials/credential-sources.js';
import type { SecretSourceReader } from '../credentials/credential-sources.js';
import { delegateCredentials } from '../credentials/delegated-credentials.js';
import { redactingSink } from '../credentials/redacting-sink.js';
import { SecretRedactor } from '../credentials/secret-redactor.js';
import { Gateway } from '../gateway/gateway.js';
import type { GatewayOptions } from '../gateway/gateway.js';
import { openAuditDatabase, resolveDatabaseUrl } from './audit-database.js';
import type { AuditDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';
import { ApprovalDesk } from '../approvals/approval-desk.js';
import { ApprovalWebhook } from '../approvals/approval-webhook.js';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import { PendingApprovals } from '../approvals/pending-approvals.js';
import { ApprovalInbox } from './approval-inbox.js';
import { PolicyWatch } from './policy-watch.js';

export interface AuditedGateway {
  readonly gateway: Gateway;
  readonly database: AuditDatabase;
  /** Removes the secrets the log would not hold from a line bound for the operator's terminal. */
  readonly redactText: (text: string) => string;
  /** Where approvers' decisions sent to the gateway (its HTTP API) are checked and recorded. */
  readonly desk: ApprovalDesk;
  /** Stops reloading the policies, reading approvals and announcing them, once what is under way is done. */
  readonly closeWatches: () => Promise<void>;
}

/**
 * What serve and wrap share: the signing key and log secret (created on first run), the log's
 * writer, the credentials read and put into the upstreams they are for, the policies (loaded
 * before anything else, so that a broken policy stops the start, and then kept in step with their
 * folder), the approvers' decisions read from the log for the calls that wait for them, and a
 * gateway whose every entry is recorded with secrets redacted.
 */
export async function openAuditedGateway(
  config: GatewayConfig,
  servers: ReadonlyMap<string, ServerConfig>,
  flags: { db?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv,
  options: Pick<GatewayOptions, 'prefixNames'> & { onStderrLine: (server: string, line: string) => void },
): Promise<AuditedGateway> {
  const report = (line: string) => process.stderr.write(`${line}\n`);
  // With an approvers section, rules must ask for groups its approvers are in (checked as policies load).
  const approvers = config.approvers === undefined ? undefined : new ApproverRegistry(config.approvers);
  const policies = config.policies === undefined ? undefined : await PolicyWatch.load(config.policies, approvers?.groups, report);
  const keyPath = resolveKeyPath(flags.key, config.log.key, env);
  const signer = await loadOrCreateGatewayKey(keyPath, config.log.origin);
  const logSecret = await loadOrCreateLogSecret(resolveLogSecretPath(config.log.secret, keyPath));
  const credentialValues = await readCredentialValues(config.credentials, nodeSecretReader(env));
  const delegations = delegateCredentials(servers, config.credentials, credentialValues, logSecret);
  const webhookConfig = config.approvals?.webhook;
  const webhookSecret = webhookConfig?.secret === undefined ? undefined : await readWebhookSecret(webhookConfig.secret, nodeSecretReader(env));
  const redactor = new SecretRedactor({
    logSecret,
    knownSecrets: [...credentialValues, ...(webhookSecret === undefined ? [] : [[WEBHOOK_SECRET_NAME, webhookSecret] as const])].map(([name, value]) => ({ name, value })),
    detectors: config.redaction.patterns.map(({ name, pattern }) => ({ name, pattern: new RegExp(pattern) })),
  });
  const redactText = (text: string): string => redactor.redactText(text);
  // Calls held for approval wait only where someone can approve them.
  const pending = approvers === undefined ? undefined : new PendingApprovals();
  const database = await openAuditDatabase(resolveDatabaseUrl(flags.db, config.log.db, env), config.log.origin, signer, env, config.log.witnesses);
  const webhook =
    pending === undefined || webhookConfig === undefined
      ? undefined
      : new ApprovalWebhook({
          url: webhookConfig.url,
          secret: webhookSecret,
          timeoutMs: webhookConfig.timeoutMs,
          retries: webhookConfig.retries,
          log: config.log.origin,
          // Each attempt is recorded in the session of the call that waits, beside its request.
          record: (notice, attempt) => gateway.recorder.event({ session: notice.session, agent: notice.agent }, 'approval.notification', attempt),
          stillWaiting: (id) => pending.state(id).state === 'pending',
          report,
        });
  const gateway = new Gateway({
    servers: delegations.servers,
    delegations: delegations.byServer,
    separator: config.naming.separator,
    ...(options.prefixNames === undefined ? {} : { prefixNames: options.prefixNames }),
    sink: redactingSink(database.appender, redactor),
    onStderrLine: (server, line) => options.onStderrLine(server, redactText(line)),
    ...(policies ? { policy: policies.gate } : {}),
    ...(pending ? { approvals: { pending, announcer: webhook } } : {}),
  });
  const inbox = approvers && pending ? new ApprovalInbox(database.store, config.log.origin, approvers, pending, report) : undefined;
  try {
    // Policy loads and rejections are a session of their own in the log, made by whoever runs the gateway.
    await policies?.start((kind, payload) => gateway.recorder.event({ session: 'policies', agent: { transport: 'cli', user: userInfo().username } }, kind, payload));
    await inbox?.start();
  } catch (error) {
    await policies?.close().catch(() => undefined);
    await database.close();
    throw error;
  }
  const closeWatches = async () => {
    await Promise.all([policies?.close(), inbox?.close(), webhook?.close()]);
  };
  // Decisions are recorded as their approvers signed them, never redacted: a changed reason would not verify.
  const desk = new ApprovalDesk(database.store, config.log.origin, approvers ?? new ApproverRegistry({}), database.appender, pending);
  return { gateway, database, redactText, desk, closeWatches };
}

const WEBHOOK_SECRET_NAME = 'approvals.webhook.secret';

/** The approval webhook's signing secret, read as a credential is: the same sources, and errors that name it. */
async function readWebhookSecret(source: CredentialSource, reader: SecretSourceReader): Promise<string> {
  const values = await readCredentialValues({ [WEBHOOK_SECRET_NAME]: { source, servers: [], format: '{value}' } }, reader);
  return values.get(WEBHOOK_SECRET_NAME)!;
}
