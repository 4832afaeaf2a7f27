import { decodeBase64, encodeBase64 } from './base64.js';

/**
 * c2sp.org/tlog-checkpoint: the note text a log signs,
 * `<origin>\n<tree size>\n<base64 root hash>\n` followed by optional extension lines.
 */

export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`. */
  readonly origin: string;
  /** Number of leaves in the tree. */
  readonly size: number;
  /** RFC 6962 Merkle tree hash of the first `size` leaves (32 bytes). */
  readonly root: Uint8Array;
  /** Opaque non-empty lines after the root; the spec discourages them (monitors cannot audit them). */
  readonly extensions: readonly string[];
}

export class CheckpointFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointFormatError';
  }
}

const ROOT_HASH_LENGTH = 32;
/** A line may not contain a newline or any other character a signed note forbids. */
const FORBIDDEN_IN_LINE = /[\u0000-\u001f\p{Cs}]/u;
/** ASCII decimal without leading zeros ("0" for the empty tree). */
const CANONICAL_SIZE = /^(?:0|[1-9][0-9]*)$/;

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions } = checkpoint;
  checkLine(origin, 'line 1 (origin)');
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new CheckpointFormatError(`checkpoint line 2 (tree size): ${size} is not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
  if (root.length !== ROOT_HASH_LENGTH) {
    throw new CheckpointFormatError(`checkpoint line 3 (root hash): the root hash must be ${ROOT_HASH_LENGTH} bytes, not ${root.length}`);
  }
  extensions.forEach((extension, position) => checkLine(extension, `line ${position + 4} (extension)`));
  return [origin, String(size), encodeBase64(root), ...extensions].map((line) => `${line}\n`).join('');
}

/** Parses a checkpoint note text (the text only: verify the signed note first). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointFormatError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) {
    throw new CheckpointFormatError(`checkpoint has ${lines.length} line(s); it needs an origin, a tree size and a root hash`);
  }
  checkLine(origin, 'line 1 (origin)');
  if (!CANONICAL_SIZE.test(sizeLine)) {
    throw new CheckpointFormatError(`checkpoint line 2 (tree size): ${JSON.stringify(sizeLine)} is not a decimal number without leading zeros`);
  }
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) {
    throw new CheckpointFormatError(`checkpoint line 2 (tree size): ${sizeLine} is larger than ${Number.MAX_SAFE_INTEGER}, the largest size supported`);
  }
  let root: Uint8Array;
  try {
    root = decodeBase64(rootLine, 'checkpoint line 3 (root hash)');
  } catch (error) {
    throw new CheckpointFormatError(error instanceof Error ? error.message : 'checkpoint line 3 (root hash) is not valid base64');
  }
  if (root.length !== ROOT_HASH_LENGTH) {
    throw new CheckpointFormatError(`checkpoint line 3 (root hash): the root hash is ${root.length} bytes, not ${ROOT_HASH_LENGTH}`);
  }
  extensions.forEach((extension, position) => checkLine(extension, `line ${position + 4} (extension)`));
  return { origin, size, root, extensions };
}

function checkLine(line: string, where: string): void {
  if (line === '') throw new CheckpointFormatError(`checkpoint ${where} is empty`);
  if (FORBIDDEN_IN_LINE.test(line)) {
    throw new CheckpointFormatError(`checkpoint ${where} contains a newline, a control character or an unpaired surrogate`);
  }
}
