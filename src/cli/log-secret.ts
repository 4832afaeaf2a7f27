import { dirname, join } from 'node:path';
import { decodeBase64, encodeBase64 } from '../ledger/base64.js';
import { createPrivateFile, readOrCreatePrivateFile, readPrivateFile } from './private-file.js';

const SECRET_BYTES = 32;

/** The log secret's file: the config's log.secret, else agenttrail.secret beside the key file. */
export function resolveLogSecretPath(fromConfig: string | undefined, keyPath: string): string {
  return fromConfig ?? join(dirname(keyPath), 'agenttrail.secret');
}

/**
 * The log's secret, created on first run: it keys credential fingerprints and redaction
 * commitments, so that what the log holds about a secret cannot be tested against guesses by
 * anyone who reads the log. It never leaves this file.
 */
export async function loadOrCreateLogSecret(path: string): Promise<Uint8Array> {
  const { value, created } = await readOrCreatePrivateFile(
    async () => parseLogSecret(path, await readPrivateFile(path, 'log secret file', 'it is created on the first run of serve or wrap')),
    async () => {
      const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
      await createPrivateFile(path, `${encodeBase64(secret)}\n`, 'log secret file', 'it is never overwritten');
      return secret;
    },
  );
  if (created) process.stderr.write(`agenttrail: created the log secret ${path} (keep it with the key; never share it)\n`);
  return value;
}

function parseLogSecret(path: string, text: string): Uint8Array {
  const secret = decodeBase64(text.trim(), `the log secret in ${path}`);
  if (secret.length !== SECRET_BYTES) throw new Error(`log secret file ${path} holds ${secret.length} bytes; expected ${SECRET_BYTES}`);
  return secret;
}
