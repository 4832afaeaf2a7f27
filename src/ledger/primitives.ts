import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

// noble leaves the synchronous SHA-512 to the application; signing and verifying are synchronous.
ed.hashes.sha512 = sha512;

/**
 * The cryptographic primitives the ledger is built on. The defaults (noble) run on every runtime;
 * a runtime adapter may install native ones that give the same bytes and are several times faster
 * (src/node-primitives.ts, about 3x for SHA-256 on entry-sized inputs and 10x for Ed25519), as
 * Hono keeps runtime specifics in adapters at the edge. The known-answer tests run both.
 */
export interface LedgerPrimitives {
  /** SHA-256 of the concatenation of `chunks`. */
  sha256(...chunks: Uint8Array[]): Uint8Array;
  /**
   * SHA-256 of `prefix || message` for each message, in order. A runtime may compute them off the
   * calling thread, so a verifier reads the next page of entries while this one is hashed.
   */
  sha256Each(prefix: Uint8Array, messages: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** The Ed25519 signature (RFC 8032) of `message` by the key with this 32-byte seed. */
  ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
  /** Strict RFC 8032 verification: canonical encodings only, no small-order public keys. */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

function nobleSha256(...chunks: Uint8Array[]): Uint8Array {
  const hasher = sha256.create();
  for (const chunk of chunks) hasher.update(chunk);
  return hasher.digest();
}

export const NOBLE_PRIMITIVES: LedgerPrimitives = {
  sha256: nobleSha256,
  sha256Each: async (prefix, messages) => messages.map((message) => nobleSha256(prefix, message)),
  ed25519Sign: (message, seed) => ed.sign(message, seed),
  ed25519Verify: (signature, message, publicKey) => ed.verify(signature, message, publicKey, { zip215: false }),
};

let installed: LedgerPrimitives = NOBLE_PRIMITIVES;

/** The primitives in use. */
export function ledgerPrimitives(): LedgerPrimitives {
  return installed;
}

/** Replaces the primitives for the whole process; returns the ones replaced. */
export function installLedgerPrimitives(primitives: LedgerPrimitives): LedgerPrimitives {
  const previous = installed;
  installed = primitives;
  return previous;
}
