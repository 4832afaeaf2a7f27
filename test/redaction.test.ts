import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it, test } from 'vitest';
import { isRedactedValue, parseRedactionMarker, redactionSalt } from '../src/credentials/redaction-marker.js';
import { SecretRedactor } from '../src/credentials/secret-redactor.js';

const LOG_SECRET = new Uint8Array(32).fill(7);
const MARKER = /\[redacted:[A-Za-z0-9:._-]+:[0-9a-f]{32}:[0-9a-f]{64}\]/g;

// Shapes of real secrets (made up, with the published formats), in the context they come in.
const SHAPES = [
  { detector: 'aws-access-key-id', secret: 'AKIAZ7XQ3MJ4WUBD5KEE', text: (s: string) => `aws configure set aws_access_key_id ${s}` },
  {
    detector: 'aws-secret-access-key',
    secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    text: (s: string) => `[default]\naws_secret_access_key = ${s}\n`,
  },
  { detector: 'github-token', secret: 'ghp_R2d9Qm4Lx7Tz0Vb8Nc6Wk1Yp3Hs5Jf2Ga9Dq', text: (s: string) => `git clone https://x-access-token@github.com/o/r (token ${s})` },
  {
    detector: 'github-token',
    secret: 'github_pat_11ABCDEFG0123456789abc_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210ZyXwVuTsRqPoNmLkJiHgFe',
    text: (s: string) => `GH_TOKEN=${s}`,
  },
  { detector: 'slack-token', secret: 'xoxb-2048-4096-a1B2c3D4e5F6g7H8', text: (s: string) => `{"token":"${s}"}` },
  {
    detector: 'jwt',
    secret: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTg5MzQ1NjAwMH0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU',
    text: (s: string) => `session cookie: ${s}; Path=/`,
  },
  {
    detector: 'private-key',
    secret: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----',
    text: (s: string) => `cat ~/.ssh/id_ed25519\n${s}\n`,
  },
  { detector: 'url-password', secret: 'Tr0ub4dor&3', text: (s: string) => `DATABASE_URL=postgres://admin:${s}@db.internal:5432/app` },
  { detector: 'bearer-token', secret: 'tok_4f9b2c7d1e8a3b6c', text: (s: string) => `Authorization: Bearer ${s}` },
];

describe('redaction of secrets before they are recorded', () => {
  const redactor = new SecretRedactor({ logSecret: LOG_SECRET });

  test.each(SHAPES)('replaces a $detector with a marker that names it, keeping the text around it', ({ detector, secret, text }) => {
    const original = text(secret);
    const redacted = redactor.redactText(original);
    expect(redacted).not.toContain(secret);
    const markers = redacted.match(MARKER) ?? [];
    expect(markers).toHaveLength(1);
    expect(parseRedactionMarker(markers[0]!)?.detector).toBe(detector);
    expect(redacted.replace(MARKER, secret)).toBe(original);
  });

  it('finds configured credentials by value, anywhere in a JSON value, keys included, and leaves the original alone', () => {
    const known = new SecretRedactor({
      logSecret: LOG_SECRET,
      knownSecrets: [
        { name: 'deploy', value: 'p@ss' },
        { name: 'deploy-long', value: 'p@ss-and-more' },
      ],
    });
    const args = { note: 'use p@ss-and-more, not p@ss', nested: [{ 'p@ss': ['p@ss'] }], count: 3, ok: true, none: null };
    const snapshot = structuredClone(args);
    const recorded = known.redact(args);
    expect(args).toEqual(snapshot);
    const text = JSON.stringify(recorded);
    expect(text).not.toContain('p@ss');
    expect(text.match(/redacted:credential:deploy-long:/g)).toHaveLength(1);
    expect(text.match(/redacted:credential:deploy:/g)).toHaveLength(3);
    expect(recorded).toMatchObject({ count: 3, ok: true, none: null });
  });

  it('applies configured patterns after the built-in ones', () => {
    const custom = new SecretRedactor({ logSecret: LOG_SECRET, detectors: [{ name: 'acme-key', pattern: /ACME-[0-9]{6}/ }] });
    expect(custom.redactText('key ACME-123456 issued')).toMatch(/^key \[redacted:acme-key:[0-9a-f]{32}:[0-9a-f]{64}\] issued$/);
  });

  it('finds configured patterns whatever their flags, groups and back-references (text is screened with all patterns at once)', () => {
    const custom = new SecretRedactor({
      logSecret: LOG_SECRET,
      detectors: [
        { name: 'case-blind', pattern: /secret-word-[a-z]{4}/i },
        // The same group name as the built-in bearer-token detector's.
        { name: 'named', pattern: /pin=(?<bearer>[0-9]{8})/, group: 'bearer' },
        { name: 'repeated', pattern: /(?<half>[A-Z]{5})-\k<half>/ },
        { name: 'numbered', pattern: /([a-z]{6})~\1/ },
        { name: 'unicode', pattern: /\p{Script=Greek}{9}/u },
      ],
    });
    const redacted = (text: string) => custom.redactText(text).replace(MARKER, '[M]');
    expect(redacted('say SECRET-WORD-ABCD now')).toBe('say [M] now');
    expect(redacted('login pin=12345678 ok')).toBe('login pin=[M] ok');
    expect(redacted('code QWERT-QWERT and QWERT-ASDFG')).toBe('code [M] and QWERT-ASDFG');
    expect(redacted('again abcdef~abcdef, not abcdef~abcdeg')).toBe('again [M], not abcdef~abcdeg');
    expect(redacted('word αβγδεζηθι end')).toBe('word [M] end');
    expect(redacted('Authorization: Bearer abcdefghijklmnop1234')).toBe('Authorization: Bearer [M]');
  });

  it('returns the very same value when there is nothing to redact', () => {
    const payload = {
      content: [{ type: 'text', text: 'Echo: hello from call 42 (sha256 3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea)' }],
      structuredContent: { id: '0198f5a2-7c3e-7b1d-9a4f-2c8e6d1b0a93', image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk' },
    };
    expect(redactor.redact(payload)).toBe(payload);
  });

  it('commits to the removed value: the salt of one marker lets its holder check a value, and nothing else', () => {
    const redacted = redactor.redactText('password=AKIAZ7XQ3MJ4WUBD5KEE and again AKIAZ7XQ3MJ4WUBD5KEE');
    const markers = (redacted.match(MARKER) ?? []).map((text) => parseRedactionMarker(text)!);
    expect(markers).toHaveLength(2);
    // The same value twice gives two unlinkable markers.
    expect(markers[0]!.commitment).not.toBe(markers[1]!.commitment);
    for (const marker of markers) {
      const salt = redactionSalt(LOG_SECRET, marker.nonce);
      // An independent computation: salt = HMAC-SHA256(log secret, nonce), commitment = SHA-256(salt || value).
      const expectedSalt = createHmac('sha256', LOG_SECRET).update(Buffer.from(marker.nonce, 'hex')).digest();
      expect(Buffer.from(salt).equals(expectedSalt)).toBe(true);
      expect(createHash('sha256').update(expectedSalt).update('AKIAZ7XQ3MJ4WUBD5KEE').digest('hex')).toBe(marker.commitment);
      expect(isRedactedValue(marker, salt, 'AKIAZ7XQ3MJ4WUBD5KEE')).toBe(true);
      expect(isRedactedValue(marker, salt, 'AKIAZ7XQ3MJ4WUBD5KEF')).toBe(false);
      expect(isRedactedValue(marker, redactionSalt(new Uint8Array(32), marker.nonce), 'AKIAZ7XQ3MJ4WUBD5KEE')).toBe(false);
    }
  });
});
