import type { Client } from '@libsql/client';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import type { GatewayConfig } from '../config/config-schema.js';
import type { WebUiOptions } from '../http/ui/web-ui.js';
import { connectDatabase, primaryDatabase } from '../store/database-connection.js';
import type { AuditDatabase } from './audit-database.js';
import { resolveDatabase } from './audit-database.js';
import { readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { nodeUiAssetFiles } from './ui-asset-files.js';

export type WebUiParts = Omit<WebUiOptions, 'record' | 'maxBodyBytes' | 'remoteAddressOf'>;

/**
 * What `agenttrail serve` gives its web UI: a connection of its own for the review's reads (on the
 * server itself for an embedded replica, so that pages show the log as it is), the log's writer for
 * approvers' decisions, the approvers of the config, and the gateway's verifier key.
 */
export async function openWebUi(
  config: GatewayConfig,
  flags: { db?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv,
  parts: { database: AuditDatabase; principals: PrincipalDirectory },
): Promise<{ options: WebUiParts; close(): void }> {
  const gatewayKey = await readGatewayKey(resolveKeyPath(flags.key, config.log.key, env));
  const client: Client = await connectDatabase(primaryDatabase(resolveDatabase(flags.db, config.log, env)));
  return {
    options: {
      log: config.log.origin,
      client,
      decisions: parts.database.appender,
      registry: new ApproverRegistry(config.approvers ?? {}),
      principals: parts.principals,
      verifierKey: gatewayKey.verifierKey,
      assets: nodeUiAssetFiles(),
    },
    close: () => client.close(),
  };
}
