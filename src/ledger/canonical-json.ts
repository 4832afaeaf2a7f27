import { bytesToHex } from '@noble/hashes/utils.js';
import { ledgerPrimitives } from './primitives.js';

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
  return new TextEncoder().encode(canonicalText(value, [], []));
}

/** Lower-case hex SHA-256 of the canonical bytes of a JSON value (e.g. `argsHash`). */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

/** Lower-case hex SHA-256 of some bytes, with the runtime's primitives (see primitives.ts). */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(ledgerPrimitives().sha256(bytes));
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
 * The canonical text of `value`, or CanonicalJsonError for anything without a JSON form, in one
 * walk. Strings and numbers are as JSON.stringify writes them, which is what RFC 8785 asks for once
 * lone surrogates are refused; keys sort by UTF-16 code units, as Array.prototype.sort does.
 * `path` holds the keys and positions down to `value`, turned into text only for an error:
 * building it for every member cost more than the check itself.
 */
function canonicalText(value: unknown, path: (string | number)[], ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw notWellFormed(value, formatPath(path));
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(formatPath(path), `${value} is not a JSON number`);
      }
      return JSON.stringify(value);
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
  if (value === null) return 'null';
  // A cycle nests without end, so it is looked for only once the depth limit is reached.
  if (ancestors.length === MAX_JSON_DEPTH) throw tooDeep(path, ancestors);
  ancestors.push(value);
  let text: string;
  if (Array.isArray(value)) {
    text = '[';
    for (let position = 0; position < value.length; position++) {
      path.push(position);
      text += (position === 0 ? '' : ',') + canonicalText(value[position], path, ancestors);
      path.pop();
    }
    text += ']';
  } else {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(formatPath(path), `a ${kind} is not a plain JSON object`);
    }
    text = '{';
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      path.push(key);
      if (!key.isWellFormed()) throw notWellFormed(key, `${formatPath(path)} (the key)`);
      text += (text.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalText(member, path, ancestors);
      path.pop();
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}

/** Names the first place where the value contains itself, if it does, else where it got too deep. */
function tooDeep(path: readonly (string | number)[], ancestors: readonly object[]): CanonicalJsonError {
  for (let depth = 1; depth < ancestors.length; depth++) {
    if (ancestors.indexOf(ancestors[depth]!) < depth) {
      return new CanonicalJsonError(formatPath(path.slice(0, depth)), 'the value contains a circular reference');
    }
  }
  const shown = formatPath(path);
  return new CanonicalJsonError(shown.length > 100 ? `${shown.slice(0, 100)}…` : shown, `nested deeper than ${MAX_JSON_DEPTH} levels`);
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
