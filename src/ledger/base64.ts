/**
 * Standard base64 with padding (RFC 4648, section 4), the encoding C2SP notes, checkpoints and
 * keys use.
 *
 * Decoding is strict: only the canonical encoding of some bytes is accepted (length a multiple of
 * four, padding only at the end, unused bits zero), so one value has exactly one text form and a
 * signature line cannot be re-spelled without changing its bytes. Error messages never quote the
 * input, because some inputs (signer keys) are secret.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Value of each ASCII code unit in the alphabet, -1 for everything else (including '='). */
const VALUES: Int8Array = (() => {
  const values = new Int8Array(128).fill(-1);
  for (let value = 0; value < ALPHABET.length; value++) values[ALPHABET.charCodeAt(value)] = value;
  return values;
})();

export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += 3) {
    const remaining = bytes.length - at;
    const group = ((bytes[at] ?? 0) << 16) | ((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0);
    parts.push(
      ALPHABET.charAt(group >>> 18),
      ALPHABET.charAt((group >>> 12) & 63),
      remaining > 1 ? ALPHABET.charAt((group >>> 6) & 63) : '=',
      remaining > 2 ? ALPHABET.charAt(group & 63) : '=',
    );
  }
  return parts.join('');
}

/** Decodes canonical padded base64; `what` names the input in the error ("the root hash", ...). */
export function decodeBase64(text: string, what: string): Uint8Array {
  const invalid = (reason: string): Error => new Error(`${what} is not valid base64 (${reason})`);
  if (text.length % 4 !== 0) throw invalid(`its length, ${text.length}, is not a multiple of 4`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const valueAt = (position: number): number => {
    const code = text.charCodeAt(position);
    const value = code < 128 ? (VALUES[code] ?? -1) : -1;
    if (value < 0) throw invalid(`character ${position + 1} is not in the base64 alphabet`);
    return value;
  };
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let written = 0;
  for (let at = 0; at < text.length; at += 4) {
    const isLast = at + 4 === text.length;
    const third = isLast && padding === 2 ? 0 : valueAt(at + 2);
    const fourth = isLast && padding >= 1 ? 0 : valueAt(at + 3);
    const group = (valueAt(at) << 18) | (valueAt(at + 1) << 12) | (third << 6) | fourth;
    bytes[written++] = group >>> 16;
    if (written < bytes.length) bytes[written++] = (group >>> 8) & 0xff;
    if (written < bytes.length) bytes[written++] = group & 0xff;
    if (isLast && padding > 0 && (group & (padding === 2 ? 0xffff : 0xff)) !== 0) {
      throw invalid('the bits after the last byte are not zero, so this is not the canonical encoding');
    }
  }
  return bytes;
}
