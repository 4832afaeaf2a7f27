import { userInfo } from 'node:os';
import type { GatewayConfig, ServerConfig } from '../config/config-schema.js';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import { PendingApprovals } from '../approvals/pending-approvals.js';
import { assembleGateway } from '../gateway/gateway-assembly.js';
import type { Gateway, GatewayOptions } from '../gateway/gateway.js';
import { createStdioUpstreamTransport } from '../gateway/stdio-upstream-transport.js';
import { ApprovalInbox } from './approval-inbox.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import type { AuditDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';
import { PolicyWatch } from './policy-watch.js';
import { redactStderr } from './redacted-stderr.js';

export interface AuditedGateway {
  readonly gateway: Gateway;
  readonly database: AuditDatabase;
  /** Stops reloading the policies and reading approvals, once what is under way is done. */
  readonly closeWatches: () => Promise<void>;
}

/**
 * What serve and wrap share on Node: the signing key and log secret (created on first run), the
 * log's writer, the policies (loaded before anything else, so that a broken policy stops the start,
 * and then kept in step with their folder), the approvers' decisions read from the log for the
 * calls that wait for them, and the assembled gateway (see gateway-assembly.ts), which starts stdio
 * servers, with every line printed on stderr redacted too.
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
    // Calls held for approval wait only where someone can approve them.
    const pending = approvers === undefined ? undefined : new PendingApprovals();
    const gateway = await assembleGateway({
      config,
      servers,
      sink: database.appender,
      revokedCredentials: () => database.store.revokedCredentials(),
      logSecret,
      secrets: nodeSecretReader(env),
      operator,
      onRedaction: redactStderr,
      policy: policies?.gate,
      approvals: pending,
      options: { ...options, stdioTransport: createStdioUpstreamTransport },
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
      await Promise.all([policies?.close(), inbox?.close()]);
    };
    return { gateway, database, closeWatches };
  } catch (error) {
    await database.close();
    throw error;
  }
}
