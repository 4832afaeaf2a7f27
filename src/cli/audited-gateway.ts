import { userInfo } from 'node:os';
import type { CredentialSource, GatewayConfig, ServerConfig } from '../config/config-schema.js';
import { ApprovalDesk } from '../approvals/approval-desk.js';
import { ApprovalWebhook } from '../approvals/approval-webhook.js';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import { PendingApprovals } from '../approvals/pending-approvals.js';
import { provisionedSecret, readCredential } from '../credentials/credential-sources.js';
import type { SecretSourceReader } from '../credentials/credential-sources.js';
import { assembleGateway } from '../gateway/gateway-assembly.js';
import type { Gateway, GatewayOptions } from '../gateway/gateway.js';
import { createNodeHttpUpstreamFetch } from '../gateway/node-http-upstream-fetch.js';
import { createStdioUpstreamTransport } from '../gateway/stdio-upstream-transport.js';
import { ApprovalInbox } from './approval-inbox.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import type { AuditDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';
import { PolicyWatch } from './policy-watch.js';
import { redactStderr } from './redacted-stderr.js';
import { reportingWriteFailures } from './write-failure-report.js';

export interface AuditedGateway {
  readonly gateway: Gateway;
  readonly database: AuditDatabase;
  /** Where approvers' decisions sent to the gateway (its HTTP API, its web UI) are checked and recorded. */
  readonly desk: ApprovalDesk;
  /** The secret GitHub signs its webhook deliveries with (config ingest.github), when configured. */
  readonly githubSecret: string | undefined;
  /** Stops reloading the policies, reading approvals and announcing them, once what is under way is done. */
  readonly closeWatches: () => Promise<void>;
}

/**
 * What serve and wrap share on Node: the signing key and log secret (created on first run), the
 * log's writer, the policies (loaded before anything else, so that a broken policy stops the start,
 * and then kept in step with their folder), the approvers' decisions read from the log for the
 * calls that wait for them and the webhook that announces them, and the assembled gateway (see
 * gateway-assembly.ts), which starts stdio servers, with every line printed on stderr redacted too.
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
  const database = await openAuditDatabase(resolveDatabase(flags.db, config.log, env), config.log.origin, signer, config.log.witnesses);
  try {
    const operator = { transport: 'cli' as const, user: userInfo().username };
    const reader = nodeSecretReader(env);
    const webhookConfig = config.approvals?.webhook;
    const webhookSecret = webhookConfig?.secret === undefined ? undefined : await readNamedSecret(WEBHOOK_SECRET_NAME, webhookConfig.secret, reader);
    const github = config.ingest?.github;
    const githubSecret = github === undefined ? undefined : await readNamedSecret(GITHUB_SECRET_NAME, github.secret, reader);
    // Calls held for approval wait only where someone can approve them.
    const pending = approvers === undefined ? undefined : new PendingApprovals();
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
    const gateway = await assembleGateway({
      config,
      servers,
      sink: reportingWriteFailures(database.appender, report),
      revokedCredentials: () => database.store.revokedCredentials(),
      logSecret,
      secrets: reader,
      otherSecrets: [
        ...(webhookSecret === undefined ? [] : [{ name: WEBHOOK_SECRET_NAME, value: webhookSecret }]),
        ...(githubSecret === undefined ? [] : [{ name: GITHUB_SECRET_NAME, value: githubSecret }]),
      ],
      operator,
      onRedaction: redactStderr,
      policy: policies?.gate,
      approvals: pending === undefined ? undefined : { pending, announcer: webhook },
      options: { ...options, upstreamRuntime: { stdio: createStdioUpstreamTransport, fetch: createNodeHttpUpstreamFetch() } },
    });
    const inbox = approvers && pending ? new ApprovalInbox(database.store, config.log.origin, approvers, pending, report) : undefined;
    try {
      // Policy loads and rejections are a session of their own in the log, made by whoever runs the gateway.
      await policies?.start((kind, payload) => gateway.recorder.event({ session: 'policies', agent: operator }, kind, payload));
      await inbox?.start();
    } catch (error) {
      await policies?.close().catch(() => undefined);
      throw error;
    }
    const closeWatches = async () => {
      await Promise.all([policies?.close(), inbox?.close(), webhook?.close()]);
    };
    // Decisions are recorded as their approvers signed them, never redacted: a changed reason would not verify.
    const desk = new ApprovalDesk(database.store, config.log.origin, approvers ?? new ApproverRegistry({}), database.appender, pending);
    return { gateway, database, desk, githubSecret, closeWatches };
  } catch (error) {
    await database.close();
    throw error;
  }
}

const WEBHOOK_SECRET_NAME = 'approvals.webhook.secret';
const GITHUB_SECRET_NAME = 'ingest.github.secret';

/** A signing secret of the config's (the approval webhook's, GitHub's), read as a credential is: the same sources, and errors that name it. */
async function readNamedSecret(name: string, source: CredentialSource, reader: SecretSourceReader): Promise<string> {
  return provisionedSecret(await readCredential(name, source, reader));
}
