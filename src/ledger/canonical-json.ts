import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** A value that has no RFC 8785 (JCS) form, so it cannot be signed or hashed. */
export class CanonicalJsonError extends Error {
  constructor(path: string, problem: string) {
    super(`cannot encode as canonical JSON (RFC 8785): ${path}: ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * The RFC 8785 canonical UTF-8 bytes of a JSON value.
 *
 * Stricter than JSON.stringify on purpose: anything JSON.stringify would silently drop or alter
 * (undefined in an array, functions, NaN, class instances with toJSON) would make the signed bytes
 * differ from what the caller believes it recorded, so it throws instead. An undefined object
 * property is omitted, as in JSON, so optional fields may be spelled out as undefined.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  assertJsonValue(value, [], new Set());
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new CanonicalJsonError('$', error instanceof Error ? error.message : String(error));
  }
  if (text === undefined) {
    throw new CanonicalJsonError('$', 'the value has no JSON representation');
  }
  return new TextEncoder().encode(text);
}

/** Lower-case hex SHA-256 of the canonical bytes of a JSON value (e.g. `argsHash`). */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

/** Lower-case hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * How deep a value may nest. Verifiers read entries with SQLite's JSON functions, which give up at
 * 1000 levels, so a deeper entry would be written and then fail every verification; and every
 * recursive walk of a value, here and on its way up- and downstream, is bounded by the stack.
 */
export const MAX_JSON_DEPTH = 512;

// A string or key with half a surrogate pair has no UTF-8 form, so it could not be signed as sent.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Throws CanonicalJsonError for anything without a JSON form. `path` holds the keys and positions
 * down to `value`, turned into text only for the error: building it for every member cost more than
 * the check itself.
 */
function assertJsonValue(value: unknown, path: (string | number)[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw notWellFormed(value, formatPath(path));
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(formatPath(path), `${value} is not a JSON number`);
      }
      return;
    case 'undefined':
      throw new CanonicalJsonError(formatPath(path), 'undefined is not a JSON value');
    case 'bigint':
      throw new CanonicalJsonError(formatPath(path), 'BigInt is not a JSON value (convert it to a number or string first)');
    case 'symbol':
    case 'function':
      throw new CanonicalJsonError(formatPath(path), `a ${typeof value} is not a JSON value`);
    case 'object':
      break;
  }
  if (value === null) return;
  if (ancestors.has(value)) {
    throw new CanonicalJsonError(formatPath(path), 'the value contains a circular reference');
  }
  if (ancestors.size === MAX_JSON_DEPTH) {
    const shown = formatPath(path);
    throw new CanonicalJsonError(shown.length > 100 ? `${shown.slice(0, 100)}…` : shown, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let position = 0; position < value.length; position++) {
      path.push(position);
      assertJsonValue(value[position], path, ancestors);
      path.pop();
    }
  } else {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(formatPath(path), `a ${kind} is not a plain JSON object`);
    }
    for (const key of Object.keys(value)) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      path.push(key);
      if (!key.isWellFormed()) throw notWellFormed(key, `${formatPath(path)} (the key)`);
      assertJsonValue(member, path, ancestors);
      path.pop();
    }
  }
  ancestors.delete(value);
}

function formatPath(path: readonly (string | number)[]): string {
  let text = '$';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else text += /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return text;
}

function notWellFormed(text: string, path: string): CanonicalJsonError {
  const unit = LONE_SURROGATE.exec(text)![0].charCodeAt(0).toString(16).toUpperCase();
  return new CanonicalJsonError(path, `a lone surrogate (U+${unit}, half of a UTF-16 pair) has no UTF-8 form`);
}
