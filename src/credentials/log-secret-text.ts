import { decodeBase64 } from '../ledger/base64.js';

/** The log secret's length: 32 random bytes, kept as base64 text (a file on Node, a secret in a Worker). */
export const LOG_SECRET_BYTES = 32;

/** The log secret in its text form; `where` names where it was read for the error. */
export function parseLogSecret(text: string, where: string): Uint8Array {
  const secret = decodeBase64(text.trim(), `the log secret in ${where}`);
  if (secret.length !== LOG_SECRET_BYTES) throw new Error(`the log secret in ${where} holds ${secret.length} bytes; expected ${LOG_SECRET_BYTES}`);
  return secret;
}
