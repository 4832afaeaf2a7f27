import { credentialTargetProblem, isTokenExchange } from '../config/config-schema.js';
import type { CredentialConfig, ServerConfig } from '../config/config-schema.js';
import { credentialFingerprint } from './credential-fingerprint.js';
import { credentialLimits } from './credential-limits.js';
import type { CallMatcher } from './credential-limits.js';
import type { CredentialSecrets } from './credential-sources.js';
import { TokenExchanger } from './token-exchange.js';
import type { Subject } from './token-exchange.js';

/** One use of a credential as it is recorded: never the secret, only its keyed fingerprint. */
export interface DelegatedCredential {
  readonly name: string;
  /** `header Authorization` or `env GITHUB_TOKEN`: where the upstream finds it. */
  readonly carrier: string;
  readonly fingerprint: string;
  readonly scope?: string | undefined;
  readonly expires?: string | undefined;
}

/** Where the value of a credential comes from for each call: read once at start, or exchanged per agent. */
export type CredentialValue =
  | { readonly kind: 'secret'; readonly value: string; readonly recorded: DelegatedCredential }
  | { readonly kind: 'token-exchange'; readonly exchanger: TokenExchanger; readonly configuredSubject?: Subject | undefined };

/** One credential as it goes to one upstream. */
export interface CredentialRoute {
  readonly name: string;
  readonly carrier: string;
  /** For an HTTP server; a stdio server's credential is in its environment from the start. */
  readonly header?: string | undefined;
  /** Makes the header value from the secret, e.g. "Bearer {value}". */
  readonly format: string;
  /** Undefined: the credential goes with every request. */
  readonly limits?: CallMatcher | undefined;
  readonly value: CredentialValue;
}

export interface Delegations {
  /** The server configs, stdio ones with their credentials in their environment. */
  readonly servers: Map<string, ServerConfig>;
  /** Per server, the credentials it gets, in config order. */
  readonly routes: Map<string, readonly CredentialRoute[]>;
}

/** A credential meant to go where something else puts a value already. */
export class CredentialConflictError extends Error {
  constructor(credential: string, server: string, carrier: string, other: string) {
    super(`credential "${credential}" goes into ${carrier} of server "${server}", which ${other} sets already; remove one of them`);
    this.name = 'CredentialConflictError';
  }
}

/** Routes each credential to the servers it is for. */
export function delegateCredentials(
  servers: ReadonlyMap<string, ServerConfig>,
  credentials: Readonly<Record<string, CredentialConfig>>,
  secrets: ReadonlyMap<string, CredentialSecrets>,
  logSecret: Uint8Array,
  fetchToken: typeof fetch = fetch,
): Delegations {
  const configured = new Map(servers);
  const routes = new Map<string, CredentialRoute[]>();
  for (const [name, credential] of Object.entries(credentials)) {
    const read = secrets.get(name);
    if (read === undefined) throw new Error(`credential "${name}" has not been read`);
    const value = credentialValue(name, credential, read, logSecret, fetchToken);
    for (const serverName of credential.servers) {
      const server = configured.get(serverName);
      if (server === undefined) throw new Error(`credential "${name}" names server "${serverName}", which is not configured`);
      const problem = credentialTargetProblem(credential, serverName, server);
      if (problem !== undefined) throw new Error(`credential "${name}": ${problem}`);
      const carrier = 'url' in server ? `header ${credential.header!}` : `env ${credential.env!}`;
      const route: CredentialRoute = { name, carrier, header: credential.header, format: credential.format, limits: credentialLimits(credential), value: withCarrier(value, carrier) };
      const earlier = routes.get(serverName) ?? [];
      assertNoConflict(route, serverName, server, earlier);
      if ('command' in server && value.kind === 'secret') configured.set(serverName, { ...server, env: { ...server.env, [credential.env!]: value.value } });
      routes.set(serverName, [...earlier, route]);
    }
  }
  return { servers: configured, routes };
}

function credentialValue(name: string, credential: CredentialConfig, read: CredentialSecrets, logSecret: Uint8Array, fetchToken: typeof fetch): CredentialValue {
  if (read.kind === 'secret') {
    const recorded = { name, carrier: '', fingerprint: credentialFingerprint(logSecret, read.value), scope: credential.scope, expires: credential.expires };
    return { kind: 'secret', value: read.value, recorded };
  }
  if (!isTokenExchange(credential.source)) throw new Error(`credential "${name}" was read as a token exchange but is none`);
  const settings = credential.source.tokenExchange;
  return {
    kind: 'token-exchange',
    exchanger: new TokenExchanger(settings, read.clientSecret, fetchToken),
    configuredSubject: read.subjectToken === undefined ? undefined : { token: read.subjectToken, type: settings.subjectTokenType },
  };
}

function withCarrier(value: CredentialValue, carrier: string): CredentialValue {
  return value.kind === 'secret' ? { ...value, recorded: { ...value.recorded, carrier } } : value;
}

/**
 * Two values for one header or variable would leave it to chance which one the upstream gets. Only
 * limited credentials may share one: a call that two of them would go with is refused.
 */
function assertNoConflict(route: CredentialRoute, serverName: string, server: ServerConfig, earlier: readonly CredentialRoute[]): void {
  const carrierName = (carrier: string): string => ('url' in server ? carrier.toLowerCase() : carrier);
  const own = Object.keys('url' in server ? server.headers : server.env).map((key) => carrierName(`${'url' in server ? 'header' : 'env'} ${key}`));
  if (own.includes(carrierName(route.carrier))) throw new CredentialConflictError(route.name, serverName, route.carrier, "the server's own config");
  const rival = earlier.find((other) => carrierName(other.carrier) === carrierName(route.carrier) && (other.limits === undefined || route.limits === undefined));
  if (rival !== undefined) throw new CredentialConflictError(route.name, serverName, route.carrier, `credential "${rival.name}"`);
}
