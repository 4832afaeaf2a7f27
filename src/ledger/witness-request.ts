import { decodeBase64, encodeBase64 } from './base64.js';

/**
 * The body of a c2sp.org/tlog-witness `add-checkpoint` request: `old <size>`, the consistency
 * proof from that size (one base64 hash per line), an empty line, then the signed checkpoint.
 */
export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as the log signed it. */
  readonly checkpoint: string;
}

// The spec's limit: a consistency proof of any tree that fits in 2^63 leaves.
const MAX_PROOF_LINES = 63;

export class WitnessRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WitnessRequestError';
  }
}

export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  if (request.proof.length > MAX_PROOF_LINES) {
    throw new WitnessRequestError(`a consistency proof has at most ${MAX_PROOF_LINES} hashes, got ${request.proof.length}`);
  }
  return `old ${request.oldSize}\n${request.proof.map((hash) => `${encodeBase64(hash)}\n`).join('')}\n${request.checkpoint}`;
}

export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new WitnessRequestError('the request has no empty line before the checkpoint');
  const [sizeLine, ...proofLines] = body.slice(0, blank).split('\n');
  const size = /^old (0|[1-9][0-9]*)$/.exec(sizeLine ?? '')?.[1];
  if (size === undefined || !Number.isSafeInteger(Number(size))) {
    throw new WitnessRequestError(`the first line must be "old <size>" in decimal without leading zeros, got ${JSON.stringify(sizeLine)}`);
  }
  if (proofLines.length > MAX_PROOF_LINES) {
    throw new WitnessRequestError(`a consistency proof has at most ${MAX_PROOF_LINES} hashes, got ${proofLines.length}`);
  }
  return {
    oldSize: Number(size),
    proof: proofLines.map((line, i) => decodeBase64(line, `consistency proof line ${i + 1}`)),
    checkpoint: body.slice(blank + 2),
  };
}

/** The signature lines of a 200 answer (`— <name> <base64>\n` each); throws on anything else. */
export function parseCosignatureLines(body: string): string[] {
  if (!body.endsWith('\n')) throw new WitnessRequestError('the witness answer does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  for (const line of lines) {
    if (!line.startsWith('\u2014 ')) throw new WitnessRequestError(`the witness answered a line that is not a signature: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return lines.map((line) => `${line}\n`);
}
