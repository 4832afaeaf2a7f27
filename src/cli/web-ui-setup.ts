import type { Client } from '@libsql/client';
import type { ApprovalDesk } from '../approvals/approval-desk.js';
import type { PrincipalDirectory } from '../auth/principal-directory.js';
import type { GatewayConfig } from '../config/config-schema.js';
import type { WebUiOptions } from '../http/ui/web-ui.js';
import { connectDatabase, primaryDatabase } from '../store/database-connection.js';
import { resolveDatabase } from './audit-database.js';
import { readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { nodeUiAssetFiles } from './ui-asset-files.js';

export type WebUiParts = Omit<WebUiOptions, 'record' | 'maxBodyBytes' | 'remoteAddressOf'>;

/**
 * What `agenttrail serve` gives its web UI: a connection of its own for the review's reads (on the
 * server itself for an embedded replica, so that pages show the log as it is), the gateway's
 * approval desk for approvers' decisions, and the gateway's verifier key.
 */
export async function openWebUi(
  config: GatewayConfig,
  flags: { db?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv,
  parts: { principals: PrincipalDirectory; desk: ApprovalDesk },
): Promise<{ options: WebUiParts; close(): void }> {
  const gatewayKey = await readGatewayKey(resolveKeyPath(flags.key, config.log.key, env));
  const client: Client = await connectDatabase(primaryDatabase(resolveDatabase(flags.db, config.log, env)));
  return {
    options: {
      log: config.log.origin,
      client,
      desk: parts.desk,
      principals: parts.principals,
      verifierKey: gatewayKey.verifierKey,
      assets: nodeUiAssetFiles(),
    },
    close: () => client.close(),
  };
}
