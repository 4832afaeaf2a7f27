import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * What the log records of a credential: HMAC-SHA256 under the log secret, so a reviewer can see
 * that two uses were the same credential (or that it changed), and nobody holding the log can
 * test a guessed secret against it.
 */
export function credentialFingerprint(logSecret: Uint8Array, value: string): string {
  return `hmac-sha256:${bytesToHex(hmac(sha256, logSecret, utf8ToBytes(value)))}`;
}
