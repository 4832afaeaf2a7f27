import type { GatewayConfig, ServerConfig } from '../config/config-schema.js';
import { readCredentialValues } from '../credentials/credential-sources.js';
import { delegateCredentials } from '../credentials/delegated-credentials.js';
import { redactingSink } from '../credentials/redacting-sink.js';
import { SecretRedactor } from '../credentials/secret-redactor.js';
import { Gateway } from '../gateway/gateway.js';
import type { GatewayOptions } from '../gateway/gateway.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import type { AuditDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';

export interface AuditedGateway {
  readonly gateway: Gateway;
  readonly database: AuditDatabase;
  /** Removes the secrets the log would not hold from a line bound for the operator's terminal. */
  readonly redactText: (text: string) => string;
}

/**
 * What serve and wrap share: the signing key and log secret (created on first run), the log's
 * writer, the credentials read and put into the upstreams they are for, and a gateway whose every
 * entry is recorded with secrets redacted.
 */
export async function openAuditedGateway(
  config: GatewayConfig,
  servers: ReadonlyMap<string, ServerConfig>,
  flags: { db?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv,
  options: Pick<GatewayOptions, 'prefixNames'> & { onStderrLine: (server: string, line: string) => void },
): Promise<AuditedGateway> {
  const keyPath = resolveKeyPath(flags.key, config.log.key, env);
  const signer = await loadOrCreateGatewayKey(keyPath, config.log.origin);
  const logSecret = await loadOrCreateLogSecret(resolveLogSecretPath(config.log.secret, keyPath));
  const credentialValues = await readCredentialValues(config.credentials, nodeSecretReader(env));
  const delegations = delegateCredentials(servers, config.credentials, credentialValues, logSecret);
  const redactor = new SecretRedactor({
    logSecret,
    knownSecrets: [...credentialValues].map(([name, value]) => ({ name, value })),
    detectors: config.redaction.patterns.map(({ name, pattern }) => ({ name, pattern: new RegExp(pattern) })),
  });
  const redactText = (text: string): string => redactor.redactText(text);
  const database = await openAuditDatabase(resolveDatabase(flags.db, config.log, env), config.log.origin, signer, config.log.witnesses);
  const gateway = new Gateway({
    servers: delegations.servers,
    delegations: delegations.byServer,
    separator: config.naming.separator,
    ...(options.prefixNames === undefined ? {} : { prefixNames: options.prefixNames }),
    sink: redactingSink(database.appender, redactor),
    onStderrLine: (server, line) => options.onStderrLine(server, redactText(line)),
  });
  return { gateway, database, redactText };
}
