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
  assertJsonValue(value, '$', new Set());
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

function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      assertWellFormed(value, path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `${value} is not a JSON number`);
      }
      return;
    case 'undefined':
      throw new CanonicalJsonError(path, 'undefined is not a JSON value');
    case 'bigint':
      throw new CanonicalJsonError(path, 'BigInt is not a JSON value (convert it to a number or string first)');
    case 'symbol':
    case 'function':
      throw new CanonicalJsonError(path, `a ${typeof value} is not a JSON value`);
    case 'object':
      break;
  }
  if (value === null) return;
  if (ancestors.has(value)) {
    throw new CanonicalJsonError(path, 'the value contains a circular reference');
  }
  if (ancestors.size === MAX_JSON_DEPTH) {
    const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    throw new CanonicalJsonError(shown, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item: unknown, position) => assertJsonValue(item, `${path}[${position}]`, ancestors));
  } else {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `a ${kind} is not a plain JSON object`);
    }
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      assertWellFormed(key, `${path}${memberPath(key)} (the key)`);
      assertJsonValue(member, `${path}${memberPath(key)}`, ancestors);
    }
  }
  ancestors.delete(value);
}

function assertWellFormed(text: string, path: string): void {
  const lone = LONE_SURROGATE.exec(text);
  if (lone !== null) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    throw new CanonicalJsonError(path, `a lone surrogate (U+${unit}, half of a UTF-16 pair) has no UTF-8 form`);
  }
}

function memberPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
