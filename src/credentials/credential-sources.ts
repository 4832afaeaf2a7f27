import { isTokenExchange } from '../config/config-schema.js';
import type { CredentialConfig, CredentialSource, SecretSource } from '../config/config-schema.js';
import type { KnownSecret } from './secret-redactor.js';

/** How a runtime reads secrets: Node reads files and runs commands; a Worker only has its bindings. */
export interface SecretSourceReader {
  env(name: string): string | undefined;
  readFile(path: string): Promise<string>;
  /** The command's standard output; rejects with a reason when it fails or runs past `timeoutMs`. */
  runCommand(command: readonly string[], timeoutMs: number): Promise<string>;
}

/** What the gateway reads of one credential at start: the secret, or what a token exchange needs. */
export type CredentialSecrets =
  | { readonly kind: 'secret'; readonly value: string }
  | { readonly kind: 'token-exchange'; readonly clientSecret: string; readonly subjectToken?: string | undefined };

/** A credential that could not be read; the message names it and its source, never a value. */
export class CredentialSourceError extends Error {
  constructor(
    readonly credential: string,
    readonly source: string,
    readonly reason: string,
  ) {
    super(`credential "${credential}" (${source}): ${reason}`);
    this.name = 'CredentialSourceError';
  }
}

/** Reads every configured credential once, at start-up; the first that cannot be read is the error. */
export async function readCredentials(
  credentials: Readonly<Record<string, CredentialConfig>>,
  reader: SecretSourceReader,
): Promise<Map<string, CredentialSecrets>> {
  const read = new Map<string, CredentialSecrets>();
  for (const [name, credential] of Object.entries(credentials)) read.set(name, await readCredential(name, credential.source, reader));
  return read;
}

export async function readCredential(name: string, source: CredentialSource, reader: SecretSourceReader): Promise<CredentialSecrets> {
  if (!isTokenExchange(source)) return { kind: 'secret', value: await readSecret(name, source, reader) };
  const { clientSecret, subjectToken } = source.tokenExchange;
  return {
    kind: 'token-exchange',
    clientSecret: await readSecret(name, clientSecret, reader, 'tokenExchange.clientSecret '),
    subjectToken: subjectToken === undefined ? undefined : await readSecret(name, subjectToken, reader, 'tokenExchange.subjectToken '),
  };
}

/** The secret whose fingerprint stands for the credential in its life cycle: a token exchange's is its client secret. */
export function provisionedSecret(secrets: CredentialSecrets): string {
  return secrets.kind === 'secret' ? secrets.value : secrets.clientSecret;
}

/** Every value read that the log must never hold, named as its redaction marker names it. */
export function knownSecretsOf(read: ReadonlyMap<string, CredentialSecrets>): KnownSecret[] {
  return [...read].flatMap(([name, secrets]): KnownSecret[] =>
    secrets.kind === 'secret'
      ? [{ name, value: secrets.value }]
      : [
          { name: `${name}.client-secret`, value: secrets.clientSecret },
          ...(secrets.subjectToken === undefined ? [] : [{ name: `${name}.subject-token`, value: secrets.subjectToken }]),
        ],
  );
}

/** `env:NAME`, `file:PATH`, `command vault` or `tokenExchange https://...`: where a credential comes from, without secrets. */
export function describeSource(source: CredentialSource): string {
  if (isTokenExchange(source)) return `tokenExchange ${source.tokenExchange.endpoint}`;
  return typeof source === 'string' ? source : `command ${source.command[0]}`;
}

async function readSecret(name: string, source: SecretSource, reader: SecretSourceReader, role = ''): Promise<string> {
  const fail = (reason: string) => new CredentialSourceError(name, `${role}${describeSource(source)}`, reason);
  let value: string | undefined;
  try {
    if (typeof source !== 'string') value = await reader.runCommand(source.command, source.timeoutMs);
    else if (source.startsWith('env:')) value = reader.env(source.slice('env:'.length));
    else value = await reader.readFile(source.slice('file:'.length));
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  if (value === undefined) throw fail('the environment variable is not set');
  // A file or a command's output ends with a newline that is no part of the secret.
  const secret = value.replace(/\r?\n$/, '');
  if (secret.length === 0) throw fail('it is empty');
  if (/[\r\n\0]/.test(secret)) throw fail('it spans several lines or holds a NUL character; expected one line');
  return secret;
}
