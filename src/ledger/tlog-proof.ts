import { decodeBase64, encodeBase64 } from './base64.js';

/**
 * c2sp.org/tlog-proof@v1: an offline-verifiable proof that entry `index` is in a log. Lines:
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>            (optional, opaque and unauthenticated)
 *   index <decimal>
 *   <base64 hash>             (zero or more: the RFC 6962 inclusion proof, leaf's sibling first)
 *   <empty line>
 *   <the signed checkpoint note, verbatim>
 *
 * This module reads and writes the form only; the caller checks the checkpoint's signatures and
 * that the proof leads from the entry's leaf hash to the checkpoint's root.
 */

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  /** Opaque application data; nothing vouches for it. */
  readonly extra?: Uint8Array | undefined;
  /** The entry's zero-based index in the log. */
  readonly index: number;
  /** The inclusion proof in the checkpoint's tree, from the leaf's sibling up to the root's child. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint (c2sp.org/tlog-checkpoint as a c2sp.org/signed-note), byte for byte. */
  readonly checkpoint: string;
}

/** A text that is not a c2sp.org/tlog-proof@v1; the message says which line is wrong. */
export class TlogProofFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlogProofFormatError';
  }
}

const EXTRA_PREFIX = 'extra ';
const INDEX_PREFIX = 'index ';
/** ASCII decimal without leading zeros ("0" for the first entry). */
const CANONICAL_INDEX = /^(?:0|[1-9][0-9]*)$/;
const HASH_LENGTH = 32;

export function formatTlogProof(proof: TlogProof): string {
  if (!Number.isSafeInteger(proof.index) || proof.index < 0) {
    throw new TlogProofFormatError(`a tlog-proof index must be a whole number from 0 to 2^53 - 1, got ${proof.index}`);
  }
  proof.proof.forEach((hash, position) => {
    if (hash.length !== HASH_LENGTH) {
      throw new TlogProofFormatError(`inclusion proof hash ${position} is ${hash.length} bytes, not ${HASH_LENGTH}`);
    }
  });
  assertCheckpointNote(proof.checkpoint);
  const lines = [
    TLOG_PROOF_HEADER,
    ...(proof.extra === undefined ? [] : [`${EXTRA_PREFIX}${encodeBase64(proof.extra)}`]),
    `${INDEX_PREFIX}${proof.index}`,
    ...proof.proof.map(encodeBase64),
    '',
  ];
  return `${lines.join('\n')}\n${proof.checkpoint}`;
}

export function parseTlogProof(text: string): TlogProof {
  // The hash lines are never empty, so the first empty line ends them; the note keeps its own.
  const split = text.indexOf('\n\n');
  if (split < 0) throw new TlogProofFormatError('it has no empty line between the inclusion proof and the checkpoint');
  const checkpoint = text.slice(split + 2);
  assertCheckpointNote(checkpoint);
  const lines = text.slice(0, split).split('\n');
  let position = 0;
  const lineAt = (): string | undefined => lines[position];
  if (lineAt() !== TLOG_PROOF_HEADER) {
    throw new TlogProofFormatError(`its first line must be ${TLOG_PROOF_HEADER}`);
  }
  position++;
  let extra: Uint8Array | undefined;
  const extraLine = lineAt();
  if (extraLine?.startsWith(EXTRA_PREFIX) === true) {
    extra = decodeLine(extraLine.slice(EXTRA_PREFIX.length), `line ${position + 1} (extra data)`);
    position++;
  }
  const indexLine = lineAt();
  const indexText = indexLine?.startsWith(INDEX_PREFIX) === true ? indexLine.slice(INDEX_PREFIX.length) : undefined;
  if (indexText === undefined || !CANONICAL_INDEX.test(indexText)) {
    throw new TlogProofFormatError(`line ${position + 1} must be "index <decimal without leading zeros>"`);
  }
  const index = Number(indexText);
  if (!Number.isSafeInteger(index)) {
    throw new TlogProofFormatError(`line ${position + 1}: index ${indexText} is larger than ${Number.MAX_SAFE_INTEGER}, the largest supported`);
  }
  position++;
  const proof = lines.slice(position).map((line, offset) => {
    const where = `line ${position + offset + 1} (inclusion proof hash ${offset})`;
    const hash = decodeLine(line, where);
    if (hash.length !== HASH_LENGTH) throw new TlogProofFormatError(`${where} is ${hash.length} bytes, not a ${HASH_LENGTH}-byte SHA-256 hash`);
    return hash;
  });
  return { ...(extra === undefined ? {} : { extra }), index, proof, checkpoint };
}

function decodeLine(text: string, where: string): Uint8Array {
  try {
    return decodeBase64(text, where);
  } catch (error) {
    throw new TlogProofFormatError(error instanceof Error ? error.message : `${where} is not valid base64`);
  }
}

/** The checkpoint is kept verbatim; a signed note is never empty and ends in a newline. */
function assertCheckpointNote(checkpoint: string): void {
  if (checkpoint === '' || !checkpoint.endsWith('\n')) {
    throw new TlogProofFormatError('the checkpoint after the empty line must be a signed note ending in a newline');
  }
}
