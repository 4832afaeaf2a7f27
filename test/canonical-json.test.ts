import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalHash, MAX_JSON_DEPTH, sha256Hex } from '../src/ledger/canonical-json.js';

const text = (value: unknown): string => new TextDecoder().decode(canonicalBytes(value));

describe('canonicalBytes (RFC 8785)', () => {
  it('reproduces the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    expect(text(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts keys by UTF-16 code units, as in RFC 8785 section 3.2.3', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    expect(text(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('formats numbers as ECMAScript does (RFC 8785 appendix B)', () => {
    const input = JSON.parse('[1E-7, 1e21, 1e20, 0.000001, -0, 4.50, 5e-324, 1.7976931348623157e308, 9007199254740992]');
    expect(text(input)).toBe(
      '[1e-7,1e+21,100000000000000000000,0.000001,0,4.5,5e-324,1.7976931348623157e+308,9007199254740992]',
    );
  });

  it('encodes strings as UTF-8 with only the escapes JSON requires', () => {
    expect(Array.from(canonicalBytes('é€😀\u001f</'))).toEqual(
      Array.from(Buffer.from('"é€😀\\u001f</"', 'utf8')),
    );
  });

  it('omits undefined object members, as JSON does', () => {
    expect(text({ b: 1, a: undefined, c: { z: null, y: [] } })).toBe('{"b":1,"c":{"y":[],"z":null}}');
  });

  it.each([
    ['undefined at the top level', undefined, /\$: undefined is not a JSON value/],
    ['NaN', { a: [1, Number.NaN] }, /\$\.a\[1\]: NaN is not a JSON number/],
    ['Infinity', { a: Number.POSITIVE_INFINITY }, /\$\.a: Infinity is not a JSON number/],
    ['a BigInt', { outer: { 'odd key': 10n } }, /\$\.outer\["odd key"\]: BigInt is not a JSON value/],
    ['undefined in an array', [1, undefined], /\$\[1\]: undefined is not a JSON value/],
    ['a function', { f: () => 1 }, /\$\.f: a function is not a JSON value/],
    ['a Date', { when: new Date(0) }, /\$\.when: a Date is not a plain JSON object/],
    ['a Map', new Map([['a', 1]]), /\$: a Map is not a plain JSON object/],
    ['a lone surrogate', { s: 'a\ud800' }, /\$\.s: a lone surrogate \(U\+D800, half of a UTF-16 pair\) has no UTF-8 form/],
    ['a lone low surrogate in a key', { ['\udc01k']: 1 }, /\$\["\\udc01k"\] \(the key\): a lone surrogate \(U\+DC01/],
  ])('refuses %s with an error naming where it is', (_name, value, message) => {
    expect(() => canonicalBytes(value)).toThrow(message);
  });

  it(`refuses a value nested deeper than ${MAX_JSON_DEPTH} levels (which SQLite's JSON functions could not read back), and takes one at the limit`, () => {
    const nested = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    expect(canonicalBytes(nested(MAX_JSON_DEPTH)).length).toBe(MAX_JSON_DEPTH * 6 + 1);
    expect(() => canonicalBytes(nested(MAX_JSON_DEPTH + 1))).toThrow(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    // Far deeper than the stack would allow a recursive walk: still the same clear refusal.
    expect(() => canonicalBytes(nested(100_000))).toThrow(/^cannot encode as canonical JSON \(RFC 8785\): \$\.a\.a\.a.{80,}…: nested deeper than/);
  });

  it('keeps well-formed pairs, NUL and bidirectional controls as they are', () => {
    expect(new TextDecoder().decode(canonicalBytes({ s: '😀\u0000\u202e\u200f' }))).toBe('{"s":"😀\\u0000\u202e\u200f"}');
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop['self'] = { back: loop };
    expect(() => canonicalBytes(loop)).toThrow(/\$\.self\.back: the value contains a circular reference/);
  });

  it('writes what an independent RFC 8785 implementation (the canonicalize package) writes, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6, stringUnit: 'grapheme' }), (value) => {
        expect(text(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a lone surrogate anywhere, as the canonicalize package does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('\ud800', 'x\udfff', '\udbff\u0041'), fc.boolean(), (value, lone, asKey) => {
        const hostile = asKey ? { [lone]: value } : [value, lone];
        expect(() => canonicalize(hostile)).toThrow();
        expect(() => canonicalBytes(hostile)).toThrow(/lone surrogate/);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(text({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('canonicalHash', () => {
  it('is the SHA-256 of the canonical bytes, matching node:crypto', () => {
    const expectedText = '{"arguments":{"message":"hello"},"name":"echo"}';
    const expected = createHash('sha256').update(expectedText, 'utf8').digest('hex');
    expect(canonicalHash({ name: 'echo', arguments: { message: 'hello' } })).toBe(expected);
    // Key order and insignificant formatting do not change the hash.
    expect(canonicalHash(JSON.parse('{ "arguments" : { "message" : "hello" }, "name":"echo" }'))).toBe(expected);
  });

  it('matches the SHA-256 known answer for "abc" (FIPS 180-2)', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
