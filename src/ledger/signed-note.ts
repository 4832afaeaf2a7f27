import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { isValidKeyName, sameKeyId, type NoteSigner, type NoteVerifier } from './note-keys.js';

/**
 * c2sp.org/signed-note: a text ending in a newline, a blank line, then one or more lines
 * `— <key name> <base64(4-byte key id || signature)>`, each ending in a newline.
 */

/** U+2014 EM DASH and a space: the start of every signature line. */
const SIGNATURE_LINE_PREFIX = '\u2014 ';
const KEY_ID_LENGTH = 4;
/** The spec asks verifiers to accept at least 16; Go's sumdb/note stops at 100. */
const MAX_SIGNATURES = 100;
/** Control characters other than newline (the spec forbids them) and unpaired surrogates (not UTF-8). */
const FORBIDDEN_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\p{Cs}]/u;

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The signature bytes after the 4-byte key id. */
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline but not the blank line after it. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note that does not have the signed-note form. */
export class NoteFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteFormatError';
  }
}

/** A well-formed note whose signatures do not establish it: a bad signature by a known key, or none. */
export class NoteVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteVerificationError';
  }
}

/** The whole signed note, byte-exact: the text, a blank line, one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertNoteText(text);
  if (signers.length === 0) throw new NoteFormatError('a signed note needs at least one signer');
  const message = utf8ToBytes(text);
  const lines = signers.map((signer) => {
    if (!isValidKeyName(signer.name)) {
      throw new NoteFormatError(`signer name ${JSON.stringify(signer.name)} cannot appear in a note`);
    }
    return formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: signer.sign(message) });
  });
  return `${text}\n${lines.join('')}`;
}

/** `— <name> <base64(key id || signature)>\n`, one line of a note's signature block. */
export function formatSignatureLine(signature: NoteSignature): string {
  if (signature.keyId.length !== KEY_ID_LENGTH) {
    throw new NoteFormatError(`the key id of ${signature.name} must be ${KEY_ID_LENGTH} bytes, not ${signature.keyId.length}`);
  }
  return `${SIGNATURE_LINE_PREFIX}${signature.name} ${encodeBase64(concatBytes(signature.keyId, signature.signature))}\n`;
}

/** Splits a note into its text and signatures. Checks the form only, not the signatures. */
export function parseSignedNote(note: string): SignedNote {
  if (FORBIDDEN_CHARACTERS.test(note)) {
    throw new NoteFormatError('the note contains a control character other than newline (or text that is not valid UTF-8)');
  }
  // Signature lines never contain an empty line, so the last one ends the text (which may have its own).
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteFormatError('the note has no blank line between its text and its signatures');
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) {
    throw new NoteFormatError('the note must end with signature lines, each ending in a newline');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteFormatError(`the note has ${lines.length} signatures, more than the ${MAX_SIGNATURES} accepted`);
  }
  return { text: note.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

/**
 * Verifies the signatures of known keys (same name AND key id; others are returned as `unknown`).
 * Every known key's signature must verify, and at least one must be present.
 */
export function verifyNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { text: string; verifiedBy: NoteVerifier[]; unknown: NoteSignature[] } {
  const { text, signatures } = parseSignedNote(note);
  const message = utf8ToBytes(text);
  const verifiedBy: NoteVerifier[] = [];
  const unknown: NoteSignature[] = [];
  for (const signature of signatures) {
    const verifier = knownKeyOf(signature, verifiers);
    if (verifier === undefined) {
      unknown.push(signature);
      continue;
    }
    if (!verifier.verify(message, signature.signature)) {
      throw new NoteVerificationError(`the signature by ${describeKey(signature)} is invalid: the note was altered or not signed by this key`);
    }
    if (!verifiedBy.includes(verifier)) verifiedBy.push(verifier);
  }
  if (verifiedBy.length === 0) {
    const found = signatures.map(describeKey).join(', ');
    const expected = verifiers.map(describeKey).join(', ') || 'none given';
    throw new NoteVerificationError(`the note is not signed by a known key: signed by ${found}; known keys: ${expected}`);
  }
  return { text, verifiedBy, unknown };
}

/**
 * The one entry of `keys` with the signature's name and key id, or undefined. Two entries with both
 * the same name and the same id cannot be told apart, so that is refused rather than guessed.
 */
export function knownKeyOf<Key extends { readonly name: string; readonly keyId: Uint8Array }>(
  signature: NoteSignature,
  keys: readonly Key[],
): Key | undefined {
  const matches = keys.filter((key) => key.name === signature.name && sameKeyId(key.keyId, signature.keyId));
  if (matches.length > 1) {
    throw new NoteVerificationError(`${matches.length} of the given keys are named ${describeKey(signature)}; give each key once`);
  }
  return matches[0];
}

export function describeKey(key: { readonly name: string; readonly keyId: Uint8Array }): string {
  return `${key.name}+${bytesToHex(key.keyId)}`;
}

function parseSignatureLine(line: string, position: number): NoteSignature {
  const where = `signature line ${position + 1}`;
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) {
    throw new NoteFormatError(`${where} does not start with an em dash (U+2014) and a space`);
  }
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  if (space < 0 || !isValidKeyName(name)) {
    throw new NoteFormatError(`${where} must be "— <key name> <base64 signature>" with a name free of spaces and '+'`);
  }
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(rest.slice(space + 1), `the signature of ${name} on ${where}`);
  } catch (error) {
    throw new NoteFormatError(error instanceof Error ? error.message : `${where} is not valid base64`);
  }
  if (bytes.length <= KEY_ID_LENGTH) {
    throw new NoteFormatError(`the signature of ${name} on ${where} is ${bytes.length} bytes, too short for a key id and a signature`);
  }
  return { name, keyId: bytes.slice(0, KEY_ID_LENGTH), signature: bytes.slice(KEY_ID_LENGTH) };
}

function assertNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteFormatError('note text must end with a newline');
  if (FORBIDDEN_CHARACTERS.test(text)) {
    throw new NoteFormatError('note text must not contain control characters other than newline, or unpaired surrogates');
  }
}
