import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { parseCheckpoint } from './checkpoint.js';
import {
  checkedEd25519PublicKey,
  COSIGNATURE_V1_SIGNATURE_TYPE,
  decodeEd25519SignerKey,
  decodeVerifierKey,
  describeUnexpectedType,
  ED25519_SIGNATURE_TYPE,
  encodeVerifierKey,
  generateSignerKey,
  keyIdOf,
  NoteKeyError,
  signEd25519,
  verifyEd25519,
} from './note-keys.js';
import { describeKey, formatSignatureLine, knownKeyOf, NoteVerificationError, parseSignedNote } from './signed-note.js';

/**
 * c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`: a witness's note signature on a checkpoint,
 * stating that at `timestamp` (POSIX seconds) this was the largest consistent tree it had seen.
 * The signature bytes are the 8-byte big-endian timestamp and an Ed25519 signature over
 * `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint text; the key id uses type 0x04.
 */

const TIMESTAMP_LENGTH = 8;
const COSIGNATURE_LENGTH = TIMESTAMP_LENGTH + 64;

export interface WitnessSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** `<name>+<key id>+<base64(0x04 || public key)>`, for those who check this witness. */
  readonly verifierKey: string;
  /** One signature line, `— <name> <base64>\n`, to append to the signed checkpoint note. */
  cosign(checkpointText: string, timestamp: number): string;
}

export interface WitnessVerifier {
  readonly name: string;
  /** SHA-256(name || 0x0A || 0x04 || public key)[:4]. */
  readonly keyId: Uint8Array;
  /** The key in its type 0x04 form, whichever form it was given in. */
  readonly verifierKey: string;
  readonly publicKey: Uint8Array;
}

/** A new witness signer key, `PRIVATE+KEY+<name>+<key id>+<base64(0x04 || seed)>`. */
export function generateWitnessKey(name: string): string {
  return generateSignerKey(name, COSIGNATURE_V1_SIGNATURE_TYPE);
}

/**
 * Only type 0x04 signer keys: a witness must not share its key with a log, and a note key
 * (type 0x01) given here is more likely a mix-up than a choice.
 */
export function parseWitnessSignerKey(signerKey: string): WitnessSigner {
  const { name, seed, publicKey } = decodeEd25519SignerKey(signerKey, COSIGNATURE_V1_SIGNATURE_TYPE);
  const keyId = keyIdOf(name, publicKey, COSIGNATURE_V1_SIGNATURE_TYPE);
  return {
    name,
    keyId,
    verifierKey: encodeVerifierKey(name, COSIGNATURE_V1_SIGNATURE_TYPE, publicKey),
    cosign(checkpointText, timestamp) {
      parseCheckpoint(checkpointText);
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw new RangeError(`a cosignature timestamp is whole seconds since 1970, not ${timestamp}`);
      }
      const signed = signEd25519(cosignedMessage(checkpointText, BigInt(timestamp)), seed);
      return formatSignatureLine({ name, keyId, signature: concatBytes(encodeTimestamp(BigInt(timestamp)), signed) });
    },
  };
}

/**
 * A witness's verifier key: type 0x04 as the spec defines it, or a plain Ed25519 note key
 * (type 0x01, its key id checked as written) taken as the same key in the 0x04 role, as
 * transparency-dev's witnesses publish some keys that way.
 */
export function parseWitnessVerifierKey(verifierKey: string): WitnessVerifier {
  const key = decodeVerifierKey(verifierKey);
  if (key.signatureType !== COSIGNATURE_V1_SIGNATURE_TYPE && key.signatureType !== ED25519_SIGNATURE_TYPE) {
    throw new NoteKeyError(`witness key "${verifierKey}": ${describeUnexpectedType(key.signatureType, COSIGNATURE_V1_SIGNATURE_TYPE)}`);
  }
  const publicKey = checkedEd25519PublicKey(key, verifierKey);
  return {
    name: key.name,
    keyId: keyIdOf(key.name, publicKey, COSIGNATURE_V1_SIGNATURE_TYPE),
    verifierKey: encodeVerifierKey(key.name, COSIGNATURE_V1_SIGNATURE_TYPE, publicKey),
    publicKey,
  };
}

/**
 * The valid cosignatures of the given witnesses on a signed checkpoint note, one per witness (its
 * latest, should it have cosigned twice). Other signature lines are ignored; this does not check
 * the log's own signature (verifyNote does). Throws NoteVerificationError if a given witness's
 * cosignature is invalid.
 */
export function verifyCosignatures(
  note: string,
  witnesses: readonly WitnessVerifier[],
): { witness: WitnessVerifier; timestamp: number }[] {
  const { text, signatures } = parseSignedNote(note);
  const latest = new Map<WitnessVerifier, number>();
  for (const signature of signatures) {
    const witness = knownKeyOf(signature, witnesses);
    if (witness === undefined) continue;
    const bytes = signature.signature;
    if (bytes.length !== COSIGNATURE_LENGTH) {
      throw new NoteVerificationError(
        `the cosignature by ${describeKey(signature)} is ${bytes.length} bytes, not the ${COSIGNATURE_LENGTH} of a cosignature/v1 Ed25519 cosignature`,
      );
    }
    const timestamp = new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_LENGTH).getBigUint64(0);
    if (!verifyEd25519(bytes.subarray(TIMESTAMP_LENGTH), cosignedMessage(text, timestamp), witness.publicKey)) {
      throw new NoteVerificationError(
        `the cosignature by ${describeKey(signature)} is invalid: the checkpoint or the timestamp was altered, or another key signed it`,
      );
    }
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new NoteVerificationError(`the cosignature by ${describeKey(signature)} has timestamp ${timestamp}, beyond any plausible time`);
    }
    latest.set(witness, Math.max(Number(timestamp), latest.get(witness) ?? 0));
  }
  return [...latest].map(([witness, timestamp]) => ({ witness, timestamp }));
}

function cosignedMessage(checkpointText: string, timestamp: bigint): Uint8Array {
  return utf8ToBytes(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

function encodeTimestamp(timestamp: bigint): Uint8Array {
  const bytes = new Uint8Array(TIMESTAMP_LENGTH);
  new DataView(bytes.buffer).setBigUint64(0, timestamp);
  return bytes;
}
