import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeBase64, encodeBase64 } from '../src/ledger/base64.js';
import { CheckpointFormatError, formatCheckpoint, parseCheckpoint, type Checkpoint } from '../src/ledger/checkpoint.js';
import {
  generateWitnessKey,
  parseWitnessSignerKey,
  parseWitnessVerifierKey,
  verifyCosignatures,
} from '../src/ledger/cosignature.js';
import {
  generateSignerKey,
  isValidKeyName,
  keyIdOf,
  NoteKeyError,
  parseSignerKey,
  parseVerifierKey,
} from '../src/ledger/note-keys.js';
import { NoteFormatError, NoteVerificationError, parseSignedNote, signNote, verifyNote } from '../src/ledger/signed-note.js';
import { describeWithEachPrimitives } from './support/ledger-primitives.js';

const VectorsSchema = z.object({
  cases: z.array(
    z.object({
      name: z.string(),
      signerKey: z.string().optional(),
      verifierKey: z.string(),
      text: z.string().optional(),
      signedNote: z.string(),
    }),
  ),
});
const vectors = VectorsSchema.parse(
  JSON.parse(readFileSync(new URL('./vectors/signed-note.json', import.meta.url), 'utf8')),
).cases;
const vector = (name: string) => {
  const found = vectors.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`vector ${name} is missing from signed-note.json`);
  return found;
};

/** Replaces the base64 of the first signature line by `change(bytes)`. */
function rewriteSignature(note: string, change: (bytes: Uint8Array) => Uint8Array): string {
  const { text, signatures } = parseSignedNote(note);
  const [first] = signatures;
  if (first === undefined) throw new Error('note without signatures');
  const bytes = change(concatBytes(first.keyId, first.signature));
  const lines = note.slice(text.length + 1).split('\n');
  lines[0] = `\u2014 ${first.name} ${encodeBase64(bytes)}`;
  return `${text}\n${lines.join('\n')}`;
}

function flipByte(bytes: Uint8Array, position: number): Uint8Array {
  const copy = bytes.slice();
  copy[position] = (copy[position] ?? 0) ^ 0x01;
  return copy;
}

const CHECKPOINT_TEXT = 'example.com/log\n42\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

describeWithEachPrimitives(() => {
  describe('signed notes: known answers (test/vectors/signed-note.json)', () => {
    it('the Go reference signer key reproduces the note byte for byte, and it verifies', () => {
      const { signerKey, verifierKey, text, signedNote } = vector('PeterNeumann');
      if (signerKey === undefined || text === undefined) throw new Error('PeterNeumann vector lacks its signer key');
      const signer = parseSignerKey(signerKey);
      expect(signer.verifierKey).toBe(verifierKey);
      expect(signNote(text, [signer])).toBe(signedNote);
      const verifier = parseVerifierKey(verifierKey);
      const result = verifyNote(signedNote, [verifier]);
      expect(result.text).toBe(text);
      expect(result.verifiedBy).toEqual([verifier]);
      expect(result.unknown).toEqual([]);
    });

    it('the C2SP spec example verifies under strict RFC 8032 rules', () => {
      const { verifierKey, signedNote } = vector('example.com/foo');
      const verifier = parseVerifierKey(verifierKey);
      expect(bytesToHex(verifier.keyId)).toBe('530d903a');
      const result = verifyNote(signedNote, [verifier]);
      expect(result.text).toBe('This is an example message.\n');
      expect(result.verifiedBy.map((v) => v.name)).toEqual(['example.com/foo']);
    });

    for (const { name, verifierKey, signedNote } of vectors) {
      it(`${name}: a flipped byte in the text or in the signature is rejected`, () => {
        const verifier = parseVerifierKey(verifierKey);
        const alteredText = signedNote.replace(/^./, (first) => String.fromCharCode(first.charCodeAt(0) ^ 0x20));
        expect(() => verifyNote(alteredText, [verifier])).toThrow(NoteVerificationError);
        expect(() => verifyNote(alteredText, [verifier])).toThrow(/invalid/);
        for (const position of [4, 20, 4 + 63]) {
          const altered = rewriteSignature(signedNote, (bytes) => flipByte(bytes, position));
          expect(() => verifyNote(altered, [verifier]), `byte ${position}`).toThrow(/signature by .* is invalid/);
        }
      });

      it(`${name}: a signature under another key name or key id is not accepted`, () => {
        const verifier = parseVerifierKey(verifierKey);
        const renamed = signedNote.replace(`\u2014 ${name} `, `\u2014 ${name}.evil `);
        expect(() => verifyNote(renamed, [verifier])).toThrow(/not signed by a known key/);
        const otherKeyId = rewriteSignature(signedNote, (bytes) => flipByte(bytes, 0));
        expect(() => verifyNote(otherKeyId, [verifier])).toThrow(/not signed by a known key/);
        // Same name, different key: its id differs, so the line is someone else's and ignored.
        const impostor = parseVerifierKey(parseSignerKey(generateSignerKey(name)).verifierKey);
        expect(() => verifyNote(signedNote, [impostor])).toThrow(NoteVerificationError);
        expect(verifyNote(signedNote, [impostor, verifier]).verifiedBy).toEqual([verifier]);
      });
    }

    it('rejects a signature that only ZIP-215 accepts (non-canonical R), which Go and OpenSSL reject too', () => {
      ed.hashes.sha512 = sha512;
      const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
      const signer = parseSignerKey(`PRIVATE+KEY+zip215.example+${bytesToHex(keyIdOf('zip215.example', ed.getPublicKey(seed)))}+${encodeBase64(concatBytes(Uint8Array.of(1), seed))}`);
      const verifier = parseVerifierKey(signer.verifierKey);
      const text = 'zip215 edge case\n';
      const forged = zip215OnlySignature(seed, utf8ToBytes(text));
      const publicKey = ed.getPublicKey(seed);
      expect(ed.verify(forged, utf8ToBytes(text), publicKey)).toBe(true); // ZIP-215 (noble's default) accepts it
      expect(nodeVerify(null, utf8ToBytes(text), spkiOf(publicKey), forged)).toBe(false);
      const note = `${text}\n\u2014 zip215.example ${encodeBase64(concatBytes(verifier.keyId, forged))}\n`;
      expect(() => verifyNote(note, [verifier])).toThrow(/signature by zip215\.example\+[0-9a-f]{8} is invalid/);
    });

    it('rejects any signature under a small-order public key, which ZIP-215 accepts', () => {
      const identity = new Uint8Array(32);
      identity[0] = 1; // the neutral point: any message "verifies" under ZIP-215 with R = identity, S = 0
      const signature = concatBytes(identity, new Uint8Array(32));
      const message = utf8ToBytes('anything\n');
      expect(ed.verify(signature, message, identity)).toBe(true);
      const keyId = keyIdOf('weak.example', identity);
      const verifier = parseVerifierKey(`weak.example+${bytesToHex(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(1), identity))}`);
      expect(verifier.verify(message, signature)).toBe(false);
    });
  });

  describe('signed notes: form', () => {
    const signer = parseSignerKey(generateSignerKey('example.com/log'));
    const verifier = parseVerifierKey(signer.verifierKey);

    it('signs with several keys, keeps empty lines inside the text, and reports unknown signers apart', () => {
      const other = parseSignerKey(generateSignerKey('other.example/key'));
      const text = 'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n';
      const note = signNote(text, [signer, other]);
      expect(note.startsWith(`${text}\n\u2014 example.com/log `)).toBe(true);
      const result = verifyNote(note, [verifier]);
      expect(result.text).toBe(text);
      expect(result.unknown.map((s) => s.name)).toEqual(['other.example/key']);
      expect(parseSignedNote(note).signatures.map((s) => s.signature.length)).toEqual([64, 64]);
    });

    it('refuses to sign text a note cannot carry', () => {
      expect(() => signNote('no newline', [signer])).toThrow(/must end with a newline/);
      expect(() => signNote('tab\there\n', [signer])).toThrow(/control characters/);
      expect(() => signNote('lone \ud800 surrogate\n', [signer])).toThrow(NoteFormatError);
      expect(() => signNote('fine\n', [])).toThrow(/at least one signer/);
    });

    it('rejects malformed notes with a reason', () => {
      const good = signNote('hello\n', [signer]);
      const line = good.slice('hello\n\n'.length);
      const cases: [string, RegExp][] = [
        [`hello\n${line}`, /no blank line/],
        [good.slice(0, -1), /signature lines, each ending in a newline/],
        ['hello\n\n', /signature lines/],
        [good.replace('\u2014', '--'), /em dash/],
        [good.replace('\u2014 example.com/log ', '\u2014 example.com/log  '), /not valid base64/],
        [good.replace('\u2014 example.com/log ', '\u2014 example+com/log '), /name free of spaces and '\+'/],
        [good.replace('\u2014 example.com/log ', '\u2014 '), /name free of spaces/],
        [`hello\n\n\u2014 short ${encodeBase64(Uint8Array.of(1, 2, 3, 4))}\n`, /too short/],
        [`hello\r\n\n${line}`, /control character/],
        [`hello\n\n${line.repeat(101)}`, /101 signatures/],
      ];
      for (const [note, reason] of cases) {
        expect(() => parseSignedNote(note), JSON.stringify(note)).toThrow(NoteFormatError);
        expect(() => parseSignedNote(note), JSON.stringify(note)).toThrow(reason);
      }
    });

    it('accepts the 16 signatures the spec requires, and verifies each known one', () => {
      const signers = Array.from({ length: 16 }, (_, i) => parseSignerKey(generateSignerKey(`witness${i}.example`)));
      const note = signNote('sixteen\n', signers);
      const verifiers = signers.map((s) => parseVerifierKey(s.verifierKey));
      expect(verifyNote(note, verifiers).verifiedBy).toHaveLength(16);
    });

    it('refuses two given keys with the same name and key id, rather than picking one', () => {
      const note = signNote('hello\n', [signer]);
      expect(() => verifyNote(note, [verifier, parseVerifierKey(signer.verifierKey)])).toThrow(/give each key once/);
    });
  });

  describe('note keys', () => {
    it('round-trips generated keys and canonicalises the verifier key', () => {
      const signerKey = generateSignerKey('example.com/log');
      expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
      const signer = parseSignerKey(signerKey);
      expect(signer.verifierKey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
      const verifier = parseVerifierKey(signer.verifierKey);
      expect(verifier.keyId).toEqual(signer.keyId);
      expect(signerKey.split('+')[3]).toBe(bytesToHex(signer.keyId));
      const upper = signer.verifierKey.replace(/\+([0-9a-f]{8})\+/, (_, id: string) => `+${id.toUpperCase()}+`);
      expect(parseVerifierKey(upper).verifierKey).toBe(signer.verifierKey);
      const message = utf8ToBytes('message\n');
      expect(verifier.verify(message, signer.sign(message))).toBe(true);
      expect(verifier.verify(message, signer.sign(message).subarray(0, 63))).toBe(false);
    });

    it('computes key ids as SHA-256(name || 0x0A || type || key)[:4]', () => {
      const { verifierKey } = vector('PeterNeumann');
      const publicKey = decodeBase64(verifierKey.split('+')[2] ?? '', 'key').subarray(1);
      expect(bytesToHex(keyIdOf('PeterNeumann', publicKey))).toBe('c74f20a3');
    });

    it('follows the C2SP key name rule', () => {
      expect(isValidKeyName('example.com/log42')).toBe(true);
      expect(isValidKeyName('oid/1.3.6.1.4.1')).toBe(true);
      expect(isValidKeyName('ünïcode.example')).toBe(true);
      for (const bad of ['', 'a b', 'a+b', 'tab\tname', 'nbsp\u00a0name', 'ideographic\u3000space', 'nel\u0085name', 'bell\u0007']) {
        expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
      }
      expect(() => generateSignerKey('has space')).toThrow(NoteKeyError);
    });

    it('rejects malformed verifier keys with a message naming the problem', () => {
      const { verifierKey } = vector('PeterNeumann');
      const [name, id, key] = ['PeterNeumann', 'c74f20a3', verifierKey.slice('PeterNeumann+c74f20a3+'.length)];
      const cases: [string, RegExp][] = [
        [`${name}+${id}`, /expected <name>\+<8 hex digit key id>\+<base64 key>/],
        [`${name}+00000000+${key}`, /key id 00000000 does not match .* \(expected c74f20a3\)/],
        [`PeterNeuman+${id}+${key}`, /does not match/],
        [`${name}+c74f20a+${key}`, /8 hexadecimal digits/],
        [`${name}+${id}+${key.slice(0, -1)}`, /not valid base64/],
        [`${name}+${id}+${key.replace('A', '!')}`, /not valid base64/],
        [`${name}+${id}+`, /key is empty/],
        [`${name}+${id}+${encodeBase64(Uint8Array.of(1, 2, 3))}`, /32 bytes, this one is 2/],
        [`+${id}+${key}`, /key name must be non-empty/],
        [`${name}+${id}+${encodeBase64(concatBytes(Uint8Array.of(4), decodeBase64(key, 'k').subarray(1)))}`, /witness cosignature key \(type 0x04\)/],
        [`${name}+${id}+${encodeBase64(concatBytes(Uint8Array.of(2), decodeBase64(key, 'k').subarray(1)))}`, /signature type 0x02/],
      ];
      for (const [text, reason] of cases) {
        expect(() => parseVerifierKey(text), text).toThrow(NoteKeyError);
        expect(() => parseVerifierKey(text), text).toThrow(reason);
      }
    });

    it('never puts the secret part of a signer key in an error', () => {
      const signerKey = generateSignerKey('example.com/log');
      const secret = signerKey.split('+').slice(4).join('+');
      const seed = decodeBase64(secret, 'seed').subarray(1);
      const reencode = (type: number, material: Uint8Array) => encodeBase64(concatBytes(Uint8Array.of(type), material));
      const keyId = signerKey.split('+')[3] ?? '';
      const malformed = [
        signerKey.replace(keyId, '00000000'),
        signerKey.replace('example.com/log', 'example.com/logs'),
        signerKey.replace('+example.com/log+', '+bad name+'),
        signerKey.replace(secret, reencode(4, seed)),
        signerKey.replace(secret, reencode(1, seed.subarray(1))),
        signerKey.replace(secret, `${secret.slice(0, -2)}!=`),
        signerKey.replace(secret, secret.slice(0, -1)),
        signerKey.replace('PRIVATE+KEY+', 'PRIVATE+KYE+'),
        signerKey.replace(`+${keyId}`, ''),
        signerKey.slice('PRIVATE+KEY+'.length),
      ];
      const secretForms = [secret, secret.slice(4, -4), bytesToHex(seed), bytesToHex(seed).slice(8, -8)];
      for (const text of malformed) {
        let caught: unknown;
        try {
          parseSignerKey(text);
        } catch (error) {
          caught = error;
        }
        expect(caught, text).toBeInstanceOf(NoteKeyError);
        const shown = `${String(caught)}\n${(caught as Error).stack ?? ''}`;
        for (const form of secretForms) expect(shown, text).not.toContain(form);
      }
      const looksPublic = signerKey.slice('PRIVATE+KEY+'.length);
      expect(() => parseSignerKey(looksPublic)).toThrow(/expected PRIVATE\+KEY\+<name>/);
    });
  });

  describe('Ed25519: byte-identical to node:crypto', () => {
    it('signs as OpenSSL signs, and each verifies the other', () => {
      for (let round = 0; round < 8; round++) {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
        const rawPublic = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
        const name = `node${round}.example`;
        const keyId = bytesToHex(keyIdOf(name, rawPublic));
        const signer = parseSignerKey(`PRIVATE+KEY+${name}+${keyId}+${encodeBase64(concatBytes(Uint8Array.of(1), seed))}`);
        expect(signer.verifierKey).toBe(`${name}+${keyId}+${encodeBase64(concatBytes(Uint8Array.of(1), rawPublic))}`);
        const verifier = parseVerifierKey(signer.verifierKey);
        const message = utf8ToBytes(`round ${round}\n${'x'.repeat(round * 37)}\n`);
        const ours = signer.sign(message);
        expect(bytesToHex(ours)).toBe(bytesToHex(nodeSign(null, message, privateKey)));
        expect(nodeVerify(null, message, publicKey, ours)).toBe(true);
        expect(verifier.verify(message, nodeSign(null, message, privateKey))).toBe(true);
      }
    });
  });

  describe('base64 (strict, canonical)', () => {
    it('matches Buffer for every length and rejects non-canonical forms', () => {
      for (let length = 0; length < 40; length++) {
        const bytes = Uint8Array.from({ length }, (_, i) => (i * 97 + length) & 0xff);
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text, 'x')).toEqual(bytes);
      }
      for (const bad of ['QQ', 'QQ=', 'QR==', 'QUI=QUI=', 'Q===', 'QUJ-', 'QUJ\u00e9', '=QUI', ' QUI']) {
        expect(() => decodeBase64(bad, 'the test input'), bad).toThrow(/^the test input is not valid base64/);
      }
    });
  });

  describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
    const root = Uint8Array.from({ length: 32 }, (_, i) => i);

    it('formats and parses, with and without extension lines, up to 2^53 - 1 leaves', () => {
      const cases: Checkpoint[] = [
        { origin: 'example.com/log', size: 0, root, extensions: [] },
        { origin: 'example.com/log', size: 2 ** 40 + 7, root, extensions: ['ext one', 'ext two'] },
        { origin: 'ünïcode origin', size: Number.MAX_SAFE_INTEGER, root, extensions: [] },
      ];
      for (const checkpoint of cases) {
        const text = formatCheckpoint(checkpoint);
        expect(parseCheckpoint(text)).toEqual(checkpoint);
      }
      expect(formatCheckpoint({ origin: 'example.com/log', size: 42, root: decodeBase64('KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'r'), extensions: [] })).toBe(
        CHECKPOINT_TEXT,
      );
    });

    it('parses the checkpoint of the C2SP spec example', () => {
      const parsed = parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
      expect(parsed.origin).toBe('example.com/behind-the-sofa');
      expect(parsed.size).toBe(20852163);
      expect(encodeBase64(parsed.root)).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    });

    it('rejects each malformed form with a message naming the line', () => {
      const rootLine = encodeBase64(root);
      const cases: [string, RegExp][] = [
        [`o\n1\n${rootLine}`, /must end with a newline/],
        ['o\n1\n', /has 2 line\(s\)/],
        [`\n1\n${rootLine}\n`, /line 1 \(origin\) is empty/],
        [`o\n01\n${rootLine}\n`, /line 2 \(tree size\): "01" is not a decimal number without leading zeros/],
        [`o\n-1\n${rootLine}\n`, /line 2 \(tree size\)/],
        [`o\n1.0\n${rootLine}\n`, /line 2 \(tree size\)/],
        [`o\n 1\n${rootLine}\n`, /line 2 \(tree size\)/],
        [`o\n\n${rootLine}\n`, /line 2 \(tree size\)/],
        [`o\n9007199254740992\n${rootLine}\n`, /line 2 \(tree size\): 9007199254740992 is larger than 9007199254740991/],
        [`o\n1\n${rootLine.slice(0, -1)}\n`, /line 3 \(root hash\) is not valid base64/],
        [`o\n1\n${encodeBase64(root.subarray(1))}\n`, /line 3 \(root hash\): the root hash is 31 bytes, not 32/],
        [`o\n1\n${rootLine}\n\n`, /line 4 \(extension\) is empty/],
        [`o\n1\n${rootLine}\next\n\n`, /line 5 \(extension\) is empty/],
        [`o\r\n1\n${rootLine}\n`, /line 1 \(origin\) contains .* control character/],
      ];
      for (const [text, reason] of cases) {
        expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow(CheckpointFormatError);
        expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow(reason);
      }
    });

    it('refuses to format a checkpoint that would not parse back', () => {
      const base: Checkpoint = { origin: 'o', size: 1, root, extensions: [] };
      expect(() => formatCheckpoint({ ...base, origin: 'two\nlines' })).toThrow(/line 1 \(origin\)/);
      expect(() => formatCheckpoint({ ...base, size: -1 })).toThrow(/line 2 \(tree size\)/);
      expect(() => formatCheckpoint({ ...base, size: 1.5 })).toThrow(/line 2 \(tree size\)/);
      expect(() => formatCheckpoint({ ...base, size: 2 ** 53 })).toThrow(/line 2 \(tree size\)/);
      expect(() => formatCheckpoint({ ...base, root: root.subarray(2) })).toThrow(/line 3 \(root hash\)/);
      expect(() => formatCheckpoint({ ...base, extensions: ['ok', ''] })).toThrow(/line 5 \(extension\) is empty/);
    });

    it('signs and verifies as a signed note', () => {
      const log = parseSignerKey(generateSignerKey('example.com/log'));
      const note = signNote(CHECKPOINT_TEXT, [log]);
      const { text } = verifyNote(note, [parseVerifierKey(log.verifierKey)]);
      expect(parseCheckpoint(text).size).toBe(42);
    });
  });

  describe('cosignatures (c2sp.org/tlog-cosignature, cosignature/v1)', () => {
    // A checkpoint of the transparency.dev staging CT log, cosigned by public witnesses; the witness
    // line types are 0x05 (RFC 6962 STH, not ours to check), 0x01 (the log's note key) and 0x04.
    const REAL_NOTE = [
      'arche2025h1.staging.ct.transparency.dev',
      '1432088532',
      'U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=',
      '',
      '\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=',
      '\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=',
      '\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==',
      '\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==',
      '\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==',
      '\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==',
      '',
    ].join('\n');
    const REAL_LOG_KEY = 'arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f';
    const REAL_WITNESS_KEY = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';

    it('verifies a real cosigned checkpoint: the log signature and a witness cosignature (known answer)', () => {
      const log = verifyNote(REAL_NOTE, [parseVerifierKey(REAL_LOG_KEY)]);
      expect(parseCheckpoint(log.text).size).toBe(1432088532);
      expect(log.unknown).toHaveLength(5);
      const witness = parseWitnessVerifierKey(REAL_WITNESS_KEY);
      expect(witness.verifierKey).toBe(REAL_WITNESS_KEY);
      expect(verifyCosignatures(REAL_NOTE, [witness])).toEqual([{ witness, timestamp: 1779573024 }]);
      const altered = REAL_NOTE.replace('1432088532', '1432088533');
      expect(() => verifyCosignatures(altered, [witness])).toThrow(/cosignature by remora\.n621\.de\+da77ade7 is invalid/);
    });

    it('round-trips: a witness cosigns, a verifier finds it with its timestamp', () => {
      const log = parseSignerKey(generateSignerKey('example.com/log'));
      const witnessKey = generateWitnessKey('witness.example/w1');
      expect(witnessKey).toMatch(/^PRIVATE\+KEY\+witness\.example\/w1\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/);
      const witness = parseWitnessSignerKey(witnessKey);
      expect(witness.verifierKey).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B/);
      const note = signNote(CHECKPOINT_TEXT, [log]) + witness.cosign(CHECKPOINT_TEXT, 1_700_000_000);
      const verifier = parseWitnessVerifierKey(witness.verifierKey);
      expect(verifyCosignatures(note, [verifier])).toEqual([{ witness: verifier, timestamp: 1_700_000_000 }]);
      // The log's verifier ignores the witness line, the witness's ignores the log line.
      expect(verifyNote(note, [parseVerifierKey(log.verifierKey)]).unknown.map((s) => s.name)).toEqual(['witness.example/w1']);
      const stranger = parseWitnessVerifierKey(parseWitnessSignerKey(generateWitnessKey('witness.example/w2')).verifierKey);
      expect(verifyCosignatures(note, [stranger])).toEqual([]);
      // A later cosignature by the same witness is the one reported.
      const twice = note + witness.cosign(CHECKPOINT_TEXT, 1_700_000_600);
      expect(verifyCosignatures(twice, [verifier])).toEqual([{ witness: verifier, timestamp: 1_700_000_600 }]);
    });

    it('rejects a tampered timestamp, signature or checkpoint', () => {
      const log = parseSignerKey(generateSignerKey('example.com/log'));
      const witness = parseWitnessSignerKey(generateWitnessKey('witness.example/w1'));
      const verifier = parseWitnessVerifierKey(witness.verifierKey);
      const note = signNote(CHECKPOINT_TEXT, [log]) + witness.cosign(CHECKPOINT_TEXT, 1_700_000_000);
      const rewriteCosignature = (change: (bytes: Uint8Array) => Uint8Array): string => {
        const lines = note.split('\n');
        const last = lines.length - 2;
        const [dash, name, b64] = (lines[last] ?? '').split(' ');
        lines[last] = `${dash} ${name} ${encodeBase64(change(decodeBase64(b64 ?? '', 'cosignature')))}`;
        return lines.join('\n');
      };
      for (const position of [4 + 7, 4 + 3, 4 + 8, 4 + 8 + 63]) {
        const tampered = rewriteCosignature((bytes) => flipByte(bytes, position));
        expect(() => verifyCosignatures(tampered, [verifier]), `byte ${position}`).toThrow(NoteVerificationError);
      }
      expect(() => verifyCosignatures(rewriteCosignature((bytes) => bytes.subarray(0, 70)), [verifier])).toThrow(/66 bytes, not the 72/);
      const otherCheckpoint = note.replace('\n42\n', '\n43\n');
      expect(() => verifyCosignatures(otherCheckpoint, [verifier])).toThrow(/is invalid/);
    });

    it('keys: type 0x04 key ids, 0x01 keys accepted for witnesses, signer keys kept to their role', () => {
      const witness = parseWitnessVerifierKey(REAL_WITNESS_KEY);
      expect(bytesToHex(witness.keyId)).toBe(bytesToHex(keyIdOf('remora.n621.de', witness.publicKey, 0x04)));
      const asNoteKey = `remora.n621.de+${bytesToHex(keyIdOf('remora.n621.de', witness.publicKey))}+${encodeBase64(concatBytes(Uint8Array.of(1), witness.publicKey))}`;
      const converted = parseWitnessVerifierKey(asNoteKey);
      expect(converted.verifierKey).toBe(REAL_WITNESS_KEY);
      expect(converted.keyId).toEqual(witness.keyId);
      expect(() => parseWitnessVerifierKey(REAL_WITNESS_KEY.replace('da77ade7', 'da77ade8'))).toThrow(/does not match/);
      expect(() => parseVerifierKey(REAL_WITNESS_KEY)).toThrow(/witness cosignature key \(type 0x04\), expected an Ed25519 note key/);
      expect(() => parseWitnessSignerKey(generateSignerKey('example.com/log'))).toThrow(/Ed25519 note key \(type 0x01\), expected a witness/);
      expect(() => parseSignerKey(generateWitnessKey('witness.example/w1'))).toThrow(/witness cosignature key \(type 0x04\)/);
    });

    it('cosigns only checkpoints, at whole non-negative seconds', () => {
      const witness = parseWitnessSignerKey(generateWitnessKey('witness.example/w1'));
      expect(() => witness.cosign('not a checkpoint\n', 1)).toThrow(CheckpointFormatError);
      expect(() => witness.cosign(CHECKPOINT_TEXT, -1)).toThrow(RangeError);
      expect(() => witness.cosign(CHECKPOINT_TEXT, 1.5)).toThrow(RangeError);
      expect(witness.cosign(CHECKPOINT_TEXT, 0)).toMatch(/^\u2014 witness\.example\/w1 [A-Za-z0-9+/]{102}==\n$/);
    });
  });

  /**
   * A signature whose R is the neutral point written non-canonically (y = p + 1): valid under
   * ZIP-215, invalid under RFC 8032's canonical-encoding rule. S = k·a, so it takes the secret key.
   */
});

function zip215OnlySignature(seed: Uint8Array, message: Uint8Array): Uint8Array {
  const order = 2n ** 252n + 27742317777372353535851937790883648493n;
  const { scalar, pointBytes } = ed.utils.getExtendedPublicKey(seed);
  const r = new Uint8Array(32).fill(0xff);
  r[0] = 0xee;
  r[31] = 0x7f;
  const k = littleEndianToBigInt(sha512(concatBytes(r, pointBytes, message))) % order;
  return concatBytes(r, bigIntToLittleEndian((k * scalar) % order));
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  return bytes.reduceRight((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

function bigIntToLittleEndian(value: bigint): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

function spkiOf(publicKey: Uint8Array): KeyObject {
  const prefix = Buffer.from('302a300506032b6570032100', 'hex');
  return createPublicKey({ key: Buffer.concat([prefix, publicKey]), format: 'der', type: 'spki' });
}
