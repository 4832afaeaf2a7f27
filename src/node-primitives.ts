import { createPrivateKey, createPublicKey, hash, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Point } from '@noble/ed25519';
import type { LedgerPrimitives } from './ledger/primitives.js';
import { Sha256Thread } from './sha256-thread.js';

// DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410), before the 32 key bytes.
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

// Key objects are costly to build; a signer or verifier keeps the same key bytes for its lifetime.
const privateKeys = new WeakMap<Uint8Array, KeyObject>();
const publicKeys = new WeakMap<Uint8Array, KeyObject | 'refused'>();

/**
 * The ledger's primitives on node:crypto (OpenSSL): the same bytes as noble, several times faster.
 * OpenSSL checks signatures strictly (canonical S and R) but accepts small-order and
 * non-canonically encoded public keys, so those are refused here once per key, as noble's
 * `zip215: false` refuses them.
 */
const sha256 = (...chunks: Uint8Array[]): Uint8Array => sha256Digest(chunks.length === 1 ? chunks[0]! : joined(chunks));
const sha256Thread = new Sha256Thread(sha256);

export const NODE_PRIMITIVES: LedgerPrimitives = {
  sha256,
  sha256Each: (prefix, messages) => sha256Thread.hashEach(prefix, messages),
  ed25519Sign: (message, seed) => new Uint8Array(sign(null, message, privateKeyOf(seed))),
  ed25519Verify: (signature, message, publicKey) => {
    const key = publicKeyOf(publicKey);
    if (key === 'refused') return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      // OpenSSL refuses some malformed public keys outright; for a verifier that is a bad signature.
      return false;
    }
  },
};

// Merkle node inputs (65 bytes) are joined here rather than in a new buffer per hash: a verifier
// computes one per entry, and the garbage would cost as much as the hashing.
const joinBuffer = new Uint8Array(1024);

function joined(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  if (length > joinBuffer.length) return Buffer.concat(chunks);
  let offset = 0;
  for (const chunk of chunks) {
    joinBuffer.set(chunk, offset);
    offset += chunk.length;
  }
  return joinBuffer.subarray(0, length);
}

/**
 * The digest as a plain Uint8Array (callers compare with Uint8Arrays; a Buffer is not equal to one
 * in tests). It is asked for as latin1 text ('binary'), one character per byte, and copied out: a
 * 32-byte string lives on the heap, where a Buffer's bytes are memory outside it, allocated and
 * freed per hash at a good part of the cost of hashing a Merkle node (and 'buffer' takes the slow
 * path through the encoding names). A verifier hashes one node per entry.
 */
function sha256Digest(input: Uint8Array): Uint8Array {
  const digest = hash('sha256', input, 'binary');
  const bytes = new Uint8Array(digest.length);
  for (let i = 0; i < digest.length; i++) bytes[i] = digest.charCodeAt(i);
  return bytes;
}

function privateKeyOf(seed: Uint8Array): KeyObject {
  let key = privateKeys.get(seed);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privateKeys.set(seed, key);
  }
  return key;
}

function publicKeyOf(publicKey: Uint8Array): KeyObject | 'refused' {
  let key = publicKeys.get(publicKey);
  if (key === undefined) {
    key = isStrictPublicKey(publicKey)
      ? createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' })
      : 'refused';
    publicKeys.set(publicKey, key);
  }
  return key;
}

function isStrictPublicKey(publicKey: Uint8Array): boolean {
  try {
    return !Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}
