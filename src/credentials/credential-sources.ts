import type { CredentialConfig, CredentialSource } from '../config/config-schema.js';

/** How a runtime reads secrets: Node reads files and runs commands; a Worker only has its bindings. */
export interface SecretSourceReader {
  env(name: string): string | undefined;
  readFile(path: string): Promise<string>;
  /** The command's standard output; rejects with a reason when it fails or runs past `timeoutMs`. */
  runCommand(command: readonly string[], timeoutMs: number): Promise<string>;
}

/** A credential that could not be read; the message names it and its source, never a value. */
export class CredentialSourceError extends Error {
  constructor(name: string, source: CredentialSource, reason: string) {
    super(`credential "${name}" (${describeSource(source)}): ${reason}`);
    this.name = 'CredentialSourceError';
  }
}

/** Reads every configured credential once, at start-up; the first that cannot be read is the error. */
export async function readCredentialValues(
  credentials: Readonly<Record<string, CredentialConfig>>,
  reader: SecretSourceReader,
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const [name, credential] of Object.entries(credentials)) {
    values.set(name, await readCredential(name, credential.source, reader));
  }
  return values;
}

async function readCredential(name: string, source: CredentialSource, reader: SecretSourceReader): Promise<string> {
  let value: string | undefined;
  try {
    if (typeof source !== 'string') value = await reader.runCommand(source.command, source.timeoutMs);
    else if (source.startsWith('env:')) value = reader.env(source.slice('env:'.length));
    else value = await reader.readFile(source.slice('file:'.length));
  } catch (error) {
    throw new CredentialSourceError(name, source, error instanceof Error ? error.message : String(error));
  }
  if (value === undefined) throw new CredentialSourceError(name, source, 'the environment variable is not set');
  // A file or a command's output ends with a newline that is no part of the secret.
  const secret = value.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new CredentialSourceError(name, source, 'it is empty');
  if (/[\r\n\0]/.test(secret)) throw new CredentialSourceError(name, source, 'it spans several lines or holds a NUL character; expected one line');
  return secret;
}

function describeSource(source: CredentialSource): string {
  return typeof source === 'string' ? source : `command ${source.command[0]}`;
}
