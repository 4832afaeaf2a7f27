import type { CredentialConfig, ServerConfig } from '../config/config-schema.js';
import { credentialFingerprint } from './credential-fingerprint.js';

/** One credential as it is handed to one upstream, and as each use of it is recorded. */
export interface DelegatedCredential {
  readonly name: string;
  /** `header Authorization` or `env GITHUB_TOKEN`: where the upstream finds it. */
  readonly carrier: string;
  readonly fingerprint: string;
  readonly scope?: string | undefined;
  readonly expires?: string | undefined;
}

export interface Delegations {
  /** The server configs with each credential in its header or environment variable. */
  readonly servers: Map<string, ServerConfig>;
  /** Per server, the credentials it gets (recorded with each call it serves). */
  readonly byServer: Map<string, readonly DelegatedCredential[]>;
}

/** A credential meant to go where the server's own config already puts a value. */
export class CredentialConflictError extends Error {
  constructor(credential: string, server: string, carrier: string) {
    super(`credential "${credential}" goes into ${carrier} of server "${server}", which the server's own config sets already; remove one of them`);
    this.name = 'CredentialConflictError';
  }
}

/** Puts each credential into the servers it is for; the config schema has checked the targets. */
export function delegateCredentials(
  servers: ReadonlyMap<string, ServerConfig>,
  credentials: Readonly<Record<string, CredentialConfig>>,
  values: ReadonlyMap<string, string>,
  logSecret: Uint8Array,
): Delegations {
  const configured = new Map(servers);
  const byServer = new Map<string, DelegatedCredential[]>();
  for (const [name, credential] of Object.entries(credentials)) {
    const value = values.get(name);
    if (value === undefined) throw new Error(`credential "${name}" has not been read`);
    const fingerprint = credentialFingerprint(logSecret, value);
    for (const serverName of credential.servers) {
      const server = configured.get(serverName);
      if (server === undefined) throw new Error(`credential "${name}" names server "${serverName}", which is not configured`);
      let carrier: string;
      if ('url' in server) {
        const header = credential.header!;
        carrier = `header ${header}`;
        if (Object.keys(server.headers).some((h) => h.toLowerCase() === header.toLowerCase())) throw new CredentialConflictError(name, serverName, carrier);
        configured.set(serverName, { ...server, headers: { ...server.headers, [header]: credential.format.replaceAll('{value}', value) } });
      } else {
        const variable = credential.env!;
        carrier = `env ${variable}`;
        if (variable in server.env) throw new CredentialConflictError(name, serverName, carrier);
        configured.set(serverName, { ...server, env: { ...server.env, [variable]: value } });
      }
      const delegated: DelegatedCredential = { name, carrier, fingerprint, scope: credential.scope, expires: credential.expires };
      byServer.set(serverName, [...(byServer.get(serverName) ?? []), delegated]);
    }
  }
  return { servers: configured, byServer };
}
