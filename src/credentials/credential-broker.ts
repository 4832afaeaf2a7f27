import { ACCESS_TOKEN_TYPE } from '../config/config-schema.js';
import { CredentialRefusal, NO_DELEGATION } from '../gateway/call-credentials.js';
import type { CallCredentials, CallDelegation } from '../gateway/call-credentials.js';
import type { RecordedCall, SessionIdentity } from '../gateway/call-recorder.js';
import { credentialFingerprint } from './credential-fingerprint.js';
import type { CredentialRoute, DelegatedCredential } from './delegated-credentials.js';
import type { KnownSecret } from './secret-redactor.js';

export interface CredentialBrokerOptions {
  /** Per server, the credentials it gets (see delegateCredentials). */
  readonly routes: ReadonlyMap<string, readonly CredentialRoute[]>;
  readonly logSecret: Uint8Array;
  /** The names of the credentials revoked so far, as the database holds them now. */
  readonly revokedCredentials: () => Promise<readonly string[]>;
  /** Told each token obtained at run time, so that the log and the operator's terminal never show it. */
  readonly onIssuedSecret?: ((secret: KnownSecret) => void) | undefined;
  /** Removes secrets from a text the agent will read (a token endpoint may quote one in its error). */
  readonly conceal?: ((text: string) => string) | undefined;
}

/**
 * Decides which credentials go with each call, and obtains exchanged tokens. It asks the database
 * which credentials are revoked on every request, without a cache, so that a revocation made by
 * another process (agenttrail credentials revoke) holds from the next request on: a call that
 * needs a revoked credential is refused, and no request carries it any more.
 */
export class CredentialBroker implements CallCredentials {
  #revoked: ReadonlySet<string> = new Set();
  #staticHeaders = new Map<string, Readonly<Record<string, string>>>();

  private constructor(private readonly options: CredentialBrokerOptions) {
    this.#updateStaticHeaders();
  }

  static async open(options: CredentialBrokerOptions): Promise<CredentialBroker> {
    const broker = new CredentialBroker(options);
    if (options.routes.size > 0) await broker.#refreshRevocations();
    return broker;
  }

  headersFor(server: string): Readonly<Record<string, string>> {
    return this.#staticHeaders.get(server) ?? {};
  }

  async forCall(who: SessionIdentity, call: RecordedCall): Promise<CallDelegation> {
    if (this.options.routes.size === 0) return NO_DELEGATION;
    await this.#refreshRevocations();
    // Credentials go with requests the agent sends to one server, not with the server's own requests.
    const server = call.server;
    if (server === undefined || call.direction === 'server') return NO_DELEGATION;
    const target = { agent: who.agent.id, method: call.method, tool: call.tool };
    const applying = (this.options.routes.get(server) ?? []).filter((route) => route.limits === undefined || route.limits(target));
    const revoked = applying.find((route) => this.#revoked.has(route.name));
    if (revoked !== undefined) throw new CredentialRefusal(revoked.name, revoked.carrier, 'was revoked (agenttrail credentials revoke)', server);
    const credentials: DelegatedCredential[] = [];
    const headers: Record<string, string> = {};
    const carriedBy = new Map<string, string>();
    for (const route of applying) {
      const { recorded, value } = await this.#use(route, who, server);
      credentials.push(recorded);
      if (route.header === undefined || !isPerCall(route)) continue;
      const rival = carriedBy.get(route.header.toLowerCase());
      if (rival !== undefined) {
        throw new CredentialRefusal(route.name, route.carrier, `and credential "${rival}" would both go into ${route.carrier} of this call (limit them with agents or tools so that one applies)`, server);
      }
      carriedBy.set(route.header.toLowerCase(), route.name);
      headers[route.header] = route.format.replaceAll('{value}', value);
    }
    return { credentials, headers };
  }

  async #use(route: CredentialRoute, who: SessionIdentity, server: string): Promise<{ recorded: DelegatedCredential; value: string }> {
    if (route.value.kind === 'secret') return { recorded: route.value.recorded, value: route.value.value };
    const refuse = (reason: string) => new CredentialRefusal(route.name, route.carrier, reason, server);
    // The agent's own access token, when it has one, so that the upstream token is down-scoped to that agent and its human.
    const subject = who.accessToken === undefined ? route.value.configuredSubject : { token: who.accessToken, type: ACCESS_TOKEN_TYPE };
    if (subject === undefined) {
      throw refuse('needs a subject token to exchange: the agent did not authenticate with an OAuth access token, and tokenExchange.subjectToken is not set');
    }
    let token;
    try {
      token = await route.value.exchanger.tokenFor(subject);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw refuse(`could not be obtained: ${this.options.conceal?.(reason) ?? reason}`);
    }
    this.options.onIssuedSecret?.({ name: route.name, value: token.value });
    const recorded: DelegatedCredential = {
      name: route.name,
      carrier: route.carrier,
      fingerprint: credentialFingerprint(this.options.logSecret, token.value),
      scope: token.scope,
      expires: token.expiresAt === undefined ? undefined : new Date(token.expiresAt).toISOString(),
    };
    return { recorded, value: token.value };
  }

  async #refreshRevocations(): Promise<void> {
    let names: readonly string[];
    try {
      names = await this.options.revokedCredentials();
    } catch (error) {
      throw new Error(`cannot read which credentials are revoked (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
    if (names.length === this.#revoked.size && names.every((name) => this.#revoked.has(name))) return;
    this.#revoked = new Set(names);
    this.#updateStaticHeaders();
  }

  /** The headers of the HTTP servers' credentials that go with every request, without the revoked ones. */
  #updateStaticHeaders(): void {
    const sent = (route: CredentialRoute): [string, string][] =>
      route.header !== undefined && route.limits === undefined && route.value.kind === 'secret' && !this.#revoked.has(route.name)
        ? [[route.header, route.format.replaceAll('{value}', route.value.value)]]
        : [];
    this.#staticHeaders = new Map([...this.options.routes].map(([server, routes]) => [server, Object.fromEntries(routes.flatMap(sent))]));
  }
}

/** Whether a credential's header is chosen call by call, rather than sent with every request. */
function isPerCall(route: CredentialRoute): boolean {
  return route.limits !== undefined || route.value.kind === 'token-exchange';
}
