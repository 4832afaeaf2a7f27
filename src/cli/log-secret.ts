import { dirname, join } from 'node:path';
import { LOG_SECRET_BYTES, parseLogSecret } from '../credentials/log-secret-text.js';
import { encodeBase64 } from '../ledger/base64.js';
import { createPrivateFile, readOrCreatePrivateFile, readPrivateFile } from './private-file.js';

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
    async () => parseLogSecret(await readPrivateFile(path, 'log secret file', 'it is created on the first run of serve or wrap'), path),
    async () => {
      const secret = crypto.getRandomValues(new Uint8Array(LOG_SECRET_BYTES));
      await createPrivateFile(path, `${encodeBase64(secret)}\n`, 'log secret file', 'it is never overwritten');
      return secret;
    },
  );
  if (created) process.stderr.write(`agenttrail: created the log secret ${path} (keep it with the key; never share it)\n`);
  return value;
}
