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

function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
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
      assertJsonValue(member, `${path}${memberPath(key)}`, ancestors);
    }
  }
  ancestors.delete(value);
}

function memberPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
