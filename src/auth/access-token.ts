import { encodeBase64 } from '../ledger/base64.js';
import { ledgerPrimitives } from '../ledger/primitives.js';

/**
 * A principal's bearer token: `agt_` and 32 random bytes in unpadded base64url (43 characters).
 * The prefix lets secret scanners and the log's redactor recognise a leaked token.
 */
export const ACCESS_TOKEN_PREFIX = 'agt_';

const TOKEN_BYTES = 32;
const ACCESS_TOKEN_SHAPE = /^agt_[A-Za-z0-9_-]{43}$/;

export function generateAccessToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return ACCESS_TOKEN_PREFIX + encodeBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Tells a token apart from other text (say, a JWT), before any database is asked about it. */
export function isAccessTokenShaped(text: string): boolean {
  return ACCESS_TOKEN_SHAPE.test(text);
}

/**
 * What the database keeps instead of the token: SHA-256 of its text. A token holds 256 random
 * bits, so a fast unsalted hash cannot be reversed by guessing, and a lookup by hash compares no
 * secret byte by byte (its timing says nothing an attacker could use). Hashed with the runtime's
 * SHA-256 (node:crypto on Node): it is asked on every request an agent makes.
 */
export function hashAccessToken(token: string): Uint8Array {
  return ledgerPrimitives().sha256(new TextEncoder().encode(token));
}
