import type { Hono } from 'hono';
import { parseLogSecret } from '../credentials/log-secret-text.js';
import { assembleGateway } from '../gateway/gateway-assembly.js';
import type { AuthenticatedEnv } from '../http/agent-authentication.js';
import { createPrincipalDirectory } from '../auth/principal-directory.js';
import { createAuditedGatewayApp } from '../http/audited-gateway-app.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { parseSignerKey } from '../ledger/note-keys.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { openLibsqlStore } from '../store/libsql-store.js';
import { openLogWriter } from '../store/log-writer.js';
import { parseWorkerConfig, workerDatabaseUrl } from './worker-config.js';
import { workerSecretReader } from './worker-secret-reader.js';
import { textBindingsOf, WorkerSettingsSchema } from './worker-settings.js';

/** Who starts a Worker's gateway, as recorded when a credential cannot be read: the deployment. */
const WORKER_OPERATOR: AgentIdentity = { transport: 'cli', user: 'cloudflare-worker' };

/**
 * The gateway a Worker serves, from its bindings: the config var, the signer key and log secret
 * secrets, and the log on a libSQL server (@libsql/client resolves to its web client in workerd).
 * Agents authenticate with tokens from the database, as on Node; upstreams are HTTP servers.
 */
export async function openWorkerGateway(env: object): Promise<Hono<AuthenticatedEnv>> {
  const parsed = WorkerSettingsSchema.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '));
  const settings = parsed.data;
  const bindings = textBindingsOf(env);
  const config = parseWorkerConfig(settings.AGENTTRAIL_CONFIG, bindings);
  const signer = signerFromSecret(settings.AGENTTRAIL_SIGNER_KEY);
  const logSecret = parseLogSecret(settings.AGENTTRAIL_LOG_SECRET, 'the secret AGENTTRAIL_LOG_SECRET');
  const store = await openLibsqlStore({ url: workerDatabaseUrl(settings.AGENTTRAIL_DB, config), authToken: settings.AGENTTRAIL_DB_AUTH_TOKEN });
  const database = await openLogWriter(store, config.log.origin, signer, config.log.witnesses, (message) => console.error(`agenttrail: ${message}; will retry`));
  try {
    const gateway = await assembleGateway({
      config,
      servers: new Map(Object.entries(config.servers)),
      sink: database.appender,
      revokedCredentials: () => store.revokedCredentials(),
      logSecret,
      secrets: workerSecretReader(bindings),
      operator: WORKER_OPERATOR,
      options: { prefixNames: config.naming.prefix },
    });
    return createAuditedGatewayApp({
      gateway,
      config,
      principals: createPrincipalDirectory((tokenHash) => store.principalByTokenHash(tokenHash)),
      // Set by Cloudflare's edge to the address the request came from; a client cannot forge it there.
      remoteAddressOf: (c) => c.req.header('cf-connecting-ip'),
    }).app;
  } catch (error) {
    await database.close();
    throw error;
  }
}

function signerFromSecret(text: string): NoteSigner {
  try {
    return parseSignerKey(text.trim());
  } catch (error) {
    throw new Error(`the secret AGENTTRAIL_SIGNER_KEY: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
