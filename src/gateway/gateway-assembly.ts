import type { GatewayConfig, ServerConfig } from '../config/config-schema.js';
import { CredentialBroker } from '../credentials/credential-broker.js';
import { CredentialSourceError, knownSecretsOf, readCredentials } from '../credentials/credential-sources.js';
import type { CredentialSecrets, SecretSourceReader } from '../credentials/credential-sources.js';
import { delegateCredentials } from '../credentials/delegated-credentials.js';
import { redactingSink } from '../credentials/redacting-sink.js';
import { SecretRedactor } from '../credentials/secret-redactor.js';
import type { KnownSecret } from '../credentials/secret-redactor.js';
import type { AgentIdentity } from '../ledger/entry.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { EntrySink } from './call-recorder.js';
import { Gateway } from './gateway.js';
import type { ApprovalChannels } from './held-for-approval.js';
import type { GatewayOptions } from './gateway.js';

/** What a runtime hands over to have a gateway assembled: the parts only it can provide. */
export interface GatewayParts {
  readonly config: GatewayConfig;
  readonly servers: ReadonlyMap<string, ServerConfig>;
  /** The log's writer. */
  readonly sink: EntrySink;
  /** The names of the credentials revoked so far, as the database holds them now. */
  readonly revokedCredentials: () => Promise<readonly string[]>;
  /** Keys credential fingerprints and redaction commitments. */
  readonly logSecret: Uint8Array;
  /** How this runtime reads credentials (Node: environment, files, commands; a Worker: its bindings). */
  readonly secrets: SecretSourceReader;
  /** Other secrets of the config the log must never hold (webhook signing keys), already read. */
  readonly otherSecrets?: readonly KnownSecret[] | undefined;
  /** Who starts the gateway, as recorded when a credential cannot be read. */
  readonly operator: AgentIdentity;
  /** Told the redaction as soon as it exists, so that the runtime's own diagnostics are redacted too. */
  readonly onRedaction?: ((redactText: (text: string) => string) => void) | undefined;
  readonly policy?: PolicyGate | undefined;
  readonly approvals?: ApprovalChannels | undefined;
  readonly options: Pick<GatewayOptions, 'prefixNames' | 'onStderrLine' | 'upstreamRuntime'>;
}

/**
 * What serve, wrap and the Worker share: the credentials read and routed to the upstreams they are
 * for, and a gateway whose every entry is recorded with secrets redacted. A credential that cannot
 * be read stops the start.
 */
export async function assembleGateway(parts: GatewayParts): Promise<Gateway> {
  const { config, logSecret } = parts;
  const secrets = await readCredentialsOrRecord(parts);
  const delegations = delegateCredentials(parts.servers, config.credentials, secrets, logSecret);
  const redactor = new SecretRedactor({
    logSecret,
    knownSecrets: [...knownSecretsOf(secrets), ...(parts.otherSecrets ?? [])],
    detectors: config.redaction.patterns.map(({ name, pattern }) => ({ name, pattern: new RegExp(pattern) })),
  });
  const redactText = (text: string): string => redactor.redactText(text);
  parts.onRedaction?.(redactText);
  const credentials = await CredentialBroker.open({
    routes: delegations.routes,
    logSecret,
    revokedCredentials: parts.revokedCredentials,
    onIssuedSecret: (secret) => redactor.remember(secret),
    conceal: redactText,
  });
  const { prefixNames, onStderrLine, upstreamRuntime } = parts.options;
  return new Gateway({
    servers: delegations.servers,
    credentials,
    separator: config.naming.separator,
    ...(prefixNames === undefined ? {} : { prefixNames }),
    sink: redactingSink(parts.sink, redactor),
    ...(onStderrLine === undefined ? {} : { onStderrLine }),
    ...(upstreamRuntime === undefined ? {} : { upstreamRuntime }),
    ...(parts.policy ? { policy: parts.policy } : {}),
    ...(parts.approvals ? { approvals: parts.approvals } : {}),
  });
}

/**
 * Reads every credential; one that cannot be read stops the start, and the log records which one
 * and why (a `credential.failed` entry), so that a reviewer sees why the gateway was down.
 */
async function readCredentialsOrRecord(parts: GatewayParts): Promise<Map<string, CredentialSecrets>> {
  try {
    return await readCredentials(parts.config.credentials, parts.secrets);
  } catch (error) {
    if (!(error instanceof CredentialSourceError)) throw error;
    // A command's error output is quoted in the reason: shapes of secrets are redacted from it.
    const sink = redactingSink(parts.sink, new SecretRedactor({ logSecret: parts.logSecret }));
    const recorded = await sink
      .append({
        v: 1,
        time: new Date().toISOString(),
        kind: 'credential.failed',
        session: 'gateway',
        agent: parts.operator,
        payload: { credential: { name: error.credential, source: error.source }, reason: error.reason },
      })
      .then(
        (entry) => `recorded as entry ${entry.index} of log "${parts.config.log.origin}"`,
        (failure: unknown) => `and this could not be recorded: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    throw new Error(`${error.message}; the gateway did not start (${recorded})`, { cause: error });
  }
}
