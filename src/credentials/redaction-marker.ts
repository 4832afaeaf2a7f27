import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * What replaces a redacted value in a recorded entry: `[redacted:DETECTOR:NONCE:COMMITMENT]`, where
 * COMMITMENT = hex SHA-256(salt || value) and salt = HMAC-SHA256(log secret, NONCE). The signed
 * entry thus commits to the removed value. The operator, who holds the log secret, can hand out
 * the salt of one marker; whoever holds the value then checks it against the commitment. Without
 * the salt nobody can test guesses, so even a short password cannot be brute-forced from the log.
 */
export interface RedactionMarker {
  /** The detector that found the value, e.g. `github-token` or `credential:deploy-token`. */
  readonly detector: string;
  /** 16 random bytes, hex: makes each marker's salt unique, so equal values give unequal markers. */
  readonly nonce: string;
  readonly commitment: string;
}

const MARKER_PATTERN = /^\[redacted:([A-Za-z0-9][A-Za-z0-9:._-]*):([0-9a-f]{32}):([0-9a-f]{64})\]$/;

export function formatRedactionMarker(marker: RedactionMarker): string {
  return `[redacted:${marker.detector}:${marker.nonce}:${marker.commitment}]`;
}

/** The marker in `text`, which must be exactly one marker; undefined when it is none. */
export function parseRedactionMarker(text: string): RedactionMarker | undefined {
  const match = MARKER_PATTERN.exec(text);
  return match === null ? undefined : { detector: match[1]!, nonce: match[2]!, commitment: match[3]! };
}

/** The salt of the marker with this nonce: what the operator hands out to let one value be checked. */
export function redactionSalt(logSecret: Uint8Array, nonce: string): Uint8Array {
  return hmac(sha256, logSecret, hexToBytes(nonce));
}

/** Hex SHA-256(salt || UTF-8 value). */
export function redactionCommitment(salt: Uint8Array, value: string): string {
  return bytesToHex(sha256(concatBytes(salt, utf8ToBytes(value))));
}

/** Whether `value` is what a marker removed, given the salt the operator revealed for it. */
export function isRedactedValue(marker: RedactionMarker, salt: Uint8Array, value: string): boolean {
  return redactionCommitment(salt, value) === marker.commitment;
}

const MARKERS_IN_TEXT = /\[redacted:([A-Za-z0-9][A-Za-z0-9:._-]*):[0-9a-f]{32}:[0-9a-f]{64}\]/g;

/**
 * `text` with each marker cut to `[redacted:DETECTOR]`. Two records of the same secret never share
 * a marker (each has its own nonce), so records are compared without them: a secret of the same
 * kind stood in the same place.
 */
export function withoutMarkerCommitments(text: string): string {
  return text.replace(MARKERS_IN_TEXT, '[redacted:$1]');
}
