import * as ed from '@noble/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { ledgerPrimitives } from './primitives.js';


/** Signature type of plain Ed25519 note signatures (c2sp.org/signed-note). */
export const ED25519_SIGNATURE_TYPE = 0x01;
/** Signature type of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature). */
export const COSIGNATURE_V1_SIGNATURE_TYPE = 0x04;

const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';
const ED25519_KEY_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;

/** A key that signs note text (type 0x01). */
export interface NoteSigner {
  readonly name: string;
  /** 4 bytes: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
  readonly keyId: Uint8Array;
  /** The matching `<name>+<key id>+<base64(0x01 || public key)>`, safe to publish. */
  readonly verifierKey: string;
  /** The 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** A public key that checks note signatures (type 0x01), under strict RFC 8032 rules. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly verifierKey: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A key string that cannot be used. The message never contains the secret part of a signer key. */
export class NoteKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteKeyError';
  }
}

/** The parts of `<name>+<hex key id>+<base64(signature type || key material)>`. */
export interface DecodedKey {
  readonly name: string;
  /** The key id as written in the string; the caller checks it against the key. */
  readonly keyId: Uint8Array;
  readonly signatureType: number;
  /** The public key of a verifier key, the seed of a signer key. */
  readonly material: Uint8Array;
}

/**
 * Key names are non-empty and contain no Unicode white space and no '+' (c2sp.org/signed-note).
 * Control characters and unpaired surrogates are refused too: a note cannot carry them.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}+\u0000-\u001f\p{Cs}]/u.test(name);
}

/** SHA-256(name || 0x0A || signature type || public key)[:4], the C2SP recommended key id. */
export function keyIdOf(name: string, publicKey: Uint8Array, signatureType: number = ED25519_SIGNATURE_TYPE): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(name), Uint8Array.of(0x0a, signatureType), publicKey)).slice(0, 4);
}

export function sameKeyId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, position) => byte === b[position]);
}

/** A new Ed25519 signer key: `PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`, type 0x01 unless given. */
export function generateSignerKey(name: string, signatureType: number = ED25519_SIGNATURE_TYPE): string {
  return encodeSignerKey(name, signatureType, ed.utils.randomSecretKey());
}

export function parseSignerKey(signerKey: string): NoteSigner {
  const { name, seed, publicKey } = decodeEd25519SignerKey(signerKey, ED25519_SIGNATURE_TYPE);
  const keyId = keyIdOf(name, publicKey);
  return {
    name,
    keyId,
    verifierKey: encodeVerifierKey(name, ED25519_SIGNATURE_TYPE, publicKey),
    sign: (message) => signEd25519(message, seed),
  };
}

export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const key = decodeVerifierKey(verifierKey);
  if (key.signatureType !== ED25519_SIGNATURE_TYPE) {
    throw new NoteKeyError(`verifier key "${verifierKey}": ${describeUnexpectedType(key.signatureType, ED25519_SIGNATURE_TYPE)}`);
  }
  const publicKey = checkedEd25519PublicKey(key, verifierKey);
  return {
    name: key.name,
    keyId: key.keyId,
    verifierKey: encodeVerifierKey(key.name, ED25519_SIGNATURE_TYPE, publicKey),
    verify: (message, signature) => verifyEd25519(signature, message, publicKey),
  };
}

export function signEd25519(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ledgerPrimitives().ed25519Sign(message, seed);
}

/** Strict RFC 8032 verification: canonical encodings only, no small-order public keys. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return signature.length === ED25519_SIGNATURE_LENGTH && ledgerPrimitives().ed25519Verify(signature, message, publicKey);
}

/** `<name>+<hex key id>+<base64(signature type || public key)>`. */
export function encodeVerifierKey(name: string, signatureType: number, publicKey: Uint8Array): string {
  assertKeyName(name);
  const keyId = keyIdOf(name, publicKey, signatureType);
  return `${name}+${bytesToHex(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(signatureType), publicKey))}`;
}

/** `PRIVATE+KEY+<name>+<hex key id>+<base64(signature type || seed)>` for an Ed25519 seed. */
function encodeSignerKey(name: string, signatureType: number, seed: Uint8Array): string {
  assertKeyName(name);
  const keyId = keyIdOf(name, ed.getPublicKey(seed), signatureType);
  return `${SIGNER_KEY_PREFIX}${name}+${bytesToHex(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(signatureType), seed))}`;
}

/** Splits a verifier key; public, so errors quote it. */
export function decodeVerifierKey(verifierKey: string): DecodedKey {
  return decodeKey(verifierKey, `verifier key "${verifierKey}"`, '<name>+<8 hex digit key id>+<base64 key>');
}

/**
 * Splits a signer key and checks that its Ed25519 seed matches the key id written in it under
 * `signatureType`. Errors name the key by its name only: the rest of the string is the secret.
 */
export function decodeEd25519SignerKey(
  signerKey: string,
  signatureType: number,
): { name: string; seed: Uint8Array; publicKey: Uint8Array } {
  if (!signerKey.startsWith(SIGNER_KEY_PREFIX)) {
    const hint = /^[^+]+\+[0-9a-fA-F]{8}\+/.test(signerKey) ? ' (this looks like a verifier key, which is public)' : '';
    throw new NoteKeyError(`signer key is malformed: expected PRIVATE+KEY+<name>+<key id>+<base64 key>${hint}`);
  }
  const nameEnd = signerKey.indexOf('+', SIGNER_KEY_PREFIX.length);
  const name = nameEnd < 0 ? '' : signerKey.slice(SIGNER_KEY_PREFIX.length, nameEnd);
  const label = isValidKeyName(name) ? `signer key "${name}"` : 'signer key';
  // decodeKey's messages quote the label and the format, never the text they are given.
  const key = decodeKey(signerKey.slice(SIGNER_KEY_PREFIX.length), label, 'PRIVATE+KEY+<name>+<8 hex digit key id>+<base64 key>');
  if (key.signatureType !== signatureType) {
    throw new NoteKeyError(`${label}: ${describeUnexpectedType(key.signatureType, signatureType)}`);
  }
  if (key.material.length !== ED25519_KEY_LENGTH) {
    throw new NoteKeyError(`${label}: an Ed25519 seed is ${ED25519_KEY_LENGTH} bytes, this one is ${key.material.length}`);
  }
  const publicKey = ed.getPublicKey(key.material);
  if (!sameKeyId(key.keyId, keyIdOf(key.name, publicKey, signatureType))) {
    throw new NoteKeyError(`${label}: the key id ${bytesToHex(key.keyId)} does not match the key (the key or its name was changed)`);
  }
  return { name: key.name, seed: key.material, publicKey };
}

/** The Ed25519 public key of a decoded verifier key, checked against the key id written in it. */
export function checkedEd25519PublicKey(key: DecodedKey, verifierKey: string): Uint8Array {
  if (key.material.length !== ED25519_KEY_LENGTH) {
    throw new NoteKeyError(`verifier key "${verifierKey}": an Ed25519 public key is ${ED25519_KEY_LENGTH} bytes, this one is ${key.material.length}`);
  }
  const expected = keyIdOf(key.name, key.material, key.signatureType);
  if (!sameKeyId(key.keyId, expected)) {
    throw new NoteKeyError(
      `verifier key "${verifierKey}": the key id ${bytesToHex(key.keyId)} does not match the name and key (expected ${bytesToHex(expected)}); the key was altered or mistyped`,
    );
  }
  return key.material;
}

function decodeKey(text: string, label: string, format: string): DecodedKey {
  const nameEnd = text.indexOf('+');
  const keyIdEnd = nameEnd < 0 ? -1 : text.indexOf('+', nameEnd + 1);
  if (keyIdEnd < 0) throw new NoteKeyError(`${label} is malformed: expected ${format}`);
  const name = text.slice(0, nameEnd);
  const keyIdHex = text.slice(nameEnd + 1, keyIdEnd);
  if (!isValidKeyName(name)) {
    throw new NoteKeyError(`${label}: the key name must be non-empty, without spaces, '+' or control characters`);
  }
  if (!/^[0-9a-fA-F]{8}$/.test(keyIdHex)) {
    throw new NoteKeyError(`${label}: the key id must be 8 hexadecimal digits`);
  }
  let encoded: Uint8Array;
  try {
    encoded = decodeBase64(text.slice(keyIdEnd + 1), `the key in ${label}`);
  } catch (error) {
    throw new NoteKeyError(error instanceof Error ? error.message : `the key in ${label} is not valid base64`);
  }
  const signatureType = encoded[0];
  if (signatureType === undefined) throw new NoteKeyError(`${label}: the key is empty`);
  const keyId = Uint8Array.from(keyIdHex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
  return { name, keyId, signatureType, material: encoded.subarray(1) };
}

export function describeUnexpectedType(found: number, expected: number): string {
  const kinds: Record<number, string> = {
    [ED25519_SIGNATURE_TYPE]: 'an Ed25519 note key (type 0x01)',
    [COSIGNATURE_V1_SIGNATURE_TYPE]: 'a witness cosignature key (type 0x04)',
  };
  const foundKind = kinds[found] ?? `a key of signature type 0x${found.toString(16).padStart(2, '0')}`;
  return `this is ${foundKind}, expected ${kinds[expected] ?? `type 0x${expected.toString(16).padStart(2, '0')}`}`;
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new NoteKeyError(`key name ${JSON.stringify(name)} is invalid: it must be non-empty, without spaces, '+' or control characters`);
  }
}
