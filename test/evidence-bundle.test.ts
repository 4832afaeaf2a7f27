import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canonicalHash } from '../src/ledger/canonical-json.js';
import type { Entry, EntryDraft } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { formatTlogProof, parseTlogProof } from '../src/ledger/tlog-proof.js';
import { openStore } from '../src/store/open-store.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const agenttrail = (...args: string[]): Promise<CliResult> => runAgenttrail(args);

const LOG = 'bundles.test/gateway';
const OTHER_LOG = 'bundles.test/other';
const signer = parseSignerKey(generateSignerKey(LOG));
const otherSigner = parseSignerKey(generateSignerKey(OTHER_LOG));
const stranger = parseSignerKey(generateSignerKey(LOG));

let folder: string;
let db: string;
/** What the test appended to LOG, by session. */
const appended = new Map<string, Entry[]>();
/** LOG's stored bodies, read back with a plain SQL client. */
let storedBodies: Buffer[];

function draft(session: string, n: number): EntryDraft {
  const args = { message: `call ${n} of ${session}` };
  return {
    v: 1,
    time: new Date(Date.UTC(2026, 1, 1, 9, 0, 0, n)).toISOString(),
    kind: n % 2 === 0 ? 'tool.call' : 'tool.result',
    session,
    agent: { transport: 'http', client: { name: 'bundle-agent', version: '1.0.0' } },
    server: 'everything',
    method: 'tools/call',
    tool: 'echo',
    call: `${session}-call-${n}`,
    argsHash: canonicalHash(args),
    payload: { arguments: args, text: 'é€😀' },
  };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-bundle-'));
  db = pathToFileURL(join(folder, 'audit.db')).href;
  const store = await openStore({ url: db });
  try {
    const appender = await store.appender(LOG, signer);
    const sessions = ['session-a', 'session-b', 'session-c'];
    // Group commits of different sizes, sessions interleaved, so proofs cross checkpoints and tile edges.
    let n = 0;
    for (const size of [1, 7, 3, 40, 2, 300, 5]) {
      const batch = Array.from({ length: size }, () => {
        const session = sessions[n % 3 === 0 ? 0 : n % 5 === 0 ? 2 : 1]!;
        return appender.append(draft(session, n++));
      });
      for (const entry of await Promise.all(batch)) appended.set(entry.session, [...(appended.get(entry.session) ?? []), entry]);
    }
    expect(appender.stats().flushes).toBeGreaterThanOrEqual(7);
    const other = await store.appender(OTHER_LOG, otherSigner);
    await Promise.all([other.append(draft('session-z', 0)), other.append(draft('session-z', 1))]);
  } finally {
    await store.close();
  }
  const client = createClient({ url: db });
  try {
    const rows = await client.execute({ sql: 'SELECT body FROM entries WHERE log = ? ORDER BY idx', args: [LOG] });
    storedBodies = rows.rows.map((row) => Buffer.from(row['body'] as ArrayBuffer));
  } finally {
    client.close();
  }
}, 30_000);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

// ---- An independent check, with node:crypto and the RFC 6962 / C2SP definitions only ----

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const leaf = (bytes: Buffer): Buffer => sha256(Buffer.of(0), bytes);
const node = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.of(1), left, right);

/** RFC 6962 MTH, by its recursive definition. */
function treeHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaf(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 PATH(m, D[n]), by its recursive definition. */
function auditPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

/** RFC 9162 section 2.1.3.2: the root an inclusion proof leads to. */
function rootFromPath(index: number, size: number, leafHash: Buffer, path: readonly Buffer[]): Buffer {
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

interface IndependentResult {
  readonly size: number;
  readonly root: Buffer;
  readonly entries: { index: number; bytes: Buffer; path: Buffer[] }[];
}

/** Checks a bundle the way docs/evidence-bundle.md tells an auditor to, without src/. */
function checkIndependently(bundle: string, verifierKey: string): IndependentResult {
  const lines = bundle.split('\n');
  expect(lines.pop()).toBe('');
  const header = JSON.parse(lines[0]!) as { format: string; log: string; session: string | null; checkpoint: string };
  expect(header.format).toBe('agenttrail/evidence-bundle@v1');

  // The checkpoint: a C2SP signed note, Ed25519 over the text before the blank line.
  const [name, keyIdHex] = verifierKey.split('+') as [string, string];
  const keyBase64 = verifierKey.slice(name.length + keyIdHex.length + 2);
  const key = Buffer.from(keyBase64, 'base64');
  expect(key[0]).toBe(0x01);
  expect(sha256(Buffer.from(`${name}\n`), key).subarray(0, 4).toString('hex')).toBe(keyIdHex);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  const split = header.checkpoint.lastIndexOf('\n\n');
  const text = header.checkpoint.slice(0, split + 1);
  const signatureLines = header.checkpoint.slice(split + 2).split('\n').filter((line) => line !== '');
  const ours = signatureLines.map((line) => /^\u2014 (\S+) (\S+)$/.exec(line)!).filter((m) => m[1] === name);
  const signature = Buffer.from(ours[0]![2]!, 'base64');
  expect(signature.subarray(0, 4).toString('hex')).toBe(keyIdHex);
  expect(verifySignature(null, Buffer.from(text, 'utf8'), publicKey, signature.subarray(4))).toBe(true);
  const [origin, sizeLine, rootLine] = text.split('\n') as [string, string, string];
  expect(origin).toBe(header.log);
  const size = Number(sizeLine);
  const root = Buffer.from(rootLine, 'base64');

  // Each entry: its tlog-proof repeats the checkpoint, and its path leads from its leaf to the root.
  const entryLines = lines.slice(1, -1);
  expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ entries: entryLines.length });
  const entries = entryLines.map((line) => {
    const item = JSON.parse(line) as { entry: string; proof: string };
    const cut = item.proof.indexOf('\n\n');
    expect(item.proof.slice(cut + 2)).toBe(header.checkpoint);
    const [first, indexLine, ...hashLines] = item.proof.slice(0, cut).split('\n');
    expect(first).toBe('c2sp.org/tlog-proof@v1');
    const index = Number(/^index (0|[1-9]\d*)$/.exec(indexLine!)![1]);
    const path = hashLines.map((hash) => Buffer.from(hash, 'base64'));
    const bytes = Buffer.from(item.entry, 'base64');
    expect(rootFromPath(index, size, leaf(bytes), path).equals(root)).toBe(true);
    const body = JSON.parse(bytes.toString('utf8')) as { index: number; session: string };
    expect(body.index).toBe(index);
    if (header.session !== null) expect(body.session).toBe(header.session);
    return { index, bytes, path };
  });
  return { size, root, entries };
}

describe('agenttrail export --format bundle and verify --bundle', () => {
  test('a session bundle verifies with the CLI and independently of AgentTrail, with byte-exact entries', async () => {
    const out = join(folder, 'session-b.bundle');
    const exported = await agenttrail('export', '--format', 'bundle', '--db', db, '--session', 'session-b', '--key', signer.verifierKey, '--out', out);
    const sessionB = appended.get('session-b')!;
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`exported session session-b of log ${LOG} to ${out}`);
    expect(exported.stdout).toContain(`entries      ${sessionB.length} (index ${sessionB[0]!.index} to ${sessionB.at(-1)!.index}`);

    const verified = await agenttrail('verify', '--bundle', out, '--key', signer.verifierKey);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`bundle ${out}: OK`);
    expect(verified.stdout).toContain('session      session-b');
    expect(verified.stdout).toContain(`entries      ${sessionB.length} `);
    expect(verified.stdout).toContain(`checkpoint   size ${storedBodies.length}, `);
    expect(verified.stdout).toContain(`signed by    ${signer.verifierKey}`);

    const json = await agenttrail('verify', '--bundle', out, '--key', signer.verifierKey, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      failure: null,
      summary: { log: LOG, session: 'session-b', entries: sessionB.length, checkpoint: { size: storedBodies.length } },
    });

    const bundle = await readFile(out, 'utf8');
    const independent = checkIndependently(bundle, signer.verifierKey);
    expect(independent.size).toBe(storedBodies.length);
    expect(independent.root.equals(treeHash(storedBodies))).toBe(true);
    expect(independent.entries.map((e) => e.index)).toEqual(sessionB.map((e) => e.index));
    for (const { index, bytes, path } of independent.entries) {
      expect(bytes.equals(storedBodies[index]!)).toBe(true);
      expect(path).toEqual(auditPath(index, storedBodies));
    }

    // Without --out the bundle goes to stdout, byte for byte the same.
    const toStdout = await agenttrail('export', '--format', 'bundle', '--db', db, '--session', 'session-b', '--key', signer.verifierKey);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(bundle);
  }, 30_000);

  test('a bundle of the whole log holds every entry and proves each', async () => {
    const out = join(folder, 'whole.bundle');
    const exported = await agenttrail('export', '--format', 'bundle', '--db', db, '--log', LOG, '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`exported all entries of log ${LOG}`);
    expect(exported.stdout).toMatch(/note: no --key given/);
    const verified = await agenttrail('verify', '--bundle', out, '--key', signer.verifierKey);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('(all entries of the log)');
    expect(verified.stdout).toContain(`entries      ${storedBodies.length} (index 0 to ${storedBodies.length - 1}`);
    const independent = checkIndependently(await readFile(out, 'utf8'), signer.verifierKey);
    expect(independent.entries.map((e) => e.bytes)).toEqual(storedBodies);

    // A missing entry cannot hide in a bundle of the whole log, even with its count fixed up.
    const lines = (await readFile(out, 'utf8')).split('\n');
    lines.splice(5, 1);
    lines[lines.length - 2] = JSON.stringify({ entries: storedBodies.length - 1 });
    const gap = await verifyTampered('gap.bundle', lines.join('\n'));
    expect(gap.code).toBe(1);
    expect(gap.stdout).toMatch(/FAILED: .*entry 5 \(line 6\): follows entry 3: the bundle of the whole log is missing entry 4/);
  }, 30_000);

  test('the session picks its log when the database holds several', async () => {
    const out = join(folder, 'session-z.bundle');
    const exported = await agenttrail('export', '--format', 'bundle', '--db', db, '--session', 'session-z', '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`of log ${OTHER_LOG}`);
    expect((await agenttrail('verify', '--bundle', out, '--key', otherSigner.verifierKey)).code).toBe(0);
    const ambiguous = await agenttrail('export', '--format', 'bundle', '--db', db, '--out', out);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/several logs .*choose one with --log/);
  }, 30_000);

  describe('a changed bundle fails with exit 1, naming what is wrong', () => {
    let original: string[];
    let secondIndex: number;

    beforeAll(async () => {
      const out = join(folder, 'original.bundle');
      expect((await agenttrail('export', '--format', 'bundle', '--db', db, '--session', 'session-a', '--out', out)).code).toBe(0);
      original = (await readFile(out, 'utf8')).split('\n');
      secondIndex = appended.get('session-a')![1]!.index;
    }, 30_000);

    /** Line 3 holds the session's second entry. */
    const secondEntry = (): { entry: string; proof: string } => JSON.parse(original[2]!) as { entry: string; proof: string };
    const withSecondEntry = (item: { entry: string; proof: string }): string =>
      original.map((line, position) => (position === 2 ? JSON.stringify(item) : line)).join('\n');

    test('an entry byte', async () => {
      const item = secondEntry();
      const bytes = Buffer.from(item.entry, 'base64');
      const at = bytes.indexOf('bundle-agent');
      bytes[at] = 'B'.charCodeAt(0);
      const result = await verifyTampered('entry-byte.bundle', withSecondEntry({ ...item, entry: bytes.toString('base64') }));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`^FAILED: bundle .*: entry ${secondIndex} \\(line 3\\): its bytes and inclusion proof do not lead to the signed checkpoint`));
    });

    test('a proof hash', async () => {
      const item = secondEntry();
      const proof = parseTlogProof(item.proof);
      const hashes = proof.proof.map((hash, position) => (position === 1 ? new Uint8Array(32).fill(7) : hash));
      const result = await verifyTampered('proof-hash.bundle', withSecondEntry({ ...item, proof: formatTlogProof({ ...proof, proof: hashes }) }));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`entry ${secondIndex} \\(line 3\\): its bytes and inclusion proof do not lead to the signed checkpoint .*root mismatch`));
    });

    test('the checkpoint, changed everywhere it appears', async () => {
      const header = JSON.parse(original[0]!) as { checkpoint: string };
      const [origin, size] = header.checkpoint.split('\n');
      const forgedRoot = Buffer.alloc(32, 9).toString('base64');
      const forged = original.join('\n').replaceAll(
        JSON.stringify(header.checkpoint).slice(1, -1),
        JSON.stringify(header.checkpoint.replace(`${origin}\n${size}\n`, `${origin}\n${Number(size) + 1}\n`).replace(/\n[A-Za-z0-9+/]{43}=\n/, `\n${forgedRoot}\n`)).slice(1, -1),
      );
      expect(forged).not.toBe(original.join('\n'));
      const result = await verifyTampered('checkpoint.bundle', forged);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAILED: bundle .*: the checkpoint: the signature by bundles\.test\/gateway\+[0-9a-f]{8} is invalid/);
    });

    test("one proof against another checkpoint than the bundle's", async () => {
      const item = secondEntry();
      const proof = parseTlogProof(item.proof);
      const result = await verifyTampered('other-checkpoint.bundle', withSecondEntry({ ...item, proof: formatTlogProof({ ...proof, checkpoint: `${proof.checkpoint}\u2014 someone AAAAAAA=\n` }) }));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`entry ${secondIndex} \\(line 3\\): its proof's checkpoint is not the bundle's signed checkpoint`));
    });

    test('a key that did not sign it', async () => {
      const result = await agenttrail('verify', '--bundle', join(folder, 'original.bundle'), '--key', stranger.verifierKey, '--json');
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as { ok: boolean; failure: { subject: string; reason: string } };
      expect(report.ok).toBe(false);
      expect(report.failure.subject).toBe('the checkpoint');
      expect(report.failure.reason).toMatch(/not signed by a known key/);
    });

    test('an entry line removed', async () => {
      const result = await verifyTampered('removed.bundle', original.filter((_, position) => position !== 2).join('\n'));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/line \d+: says the bundle holds \d+ entries, but it holds \d+: entry lines were removed or added/);
    });

    test('entries claimed for another session', async () => {
      const header = JSON.parse(original[0]!) as object;
      const relabelled = [JSON.stringify({ ...header, session: 'session-b' }), ...original.slice(1)].join('\n');
      const result = await verifyTampered('relabelled.bundle', relabelled);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/entry \d+ \(line 2\): belongs to session "session-a", not to session "session-b" that the bundle claims/);
    });

    test('a truncated file', async () => {
      const result = await verifyTampered('truncated.bundle', `${original.slice(0, 4).join('\n')}\n`);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/the bundle: ends at line 4 without its closing \{"entries": N\} line: it was truncated/);
    });
  });

  test('export refuses an unknown session, an unknown format, and a checkpoint not signed by --key', async () => {
    const out = join(folder, 'nope.bundle');
    const unknown = await agenttrail('export', '--format', 'bundle', '--db', db, '--log', LOG, '--session', 'nope', '--out', out);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^agenttrail: log "bundles\.test\/gateway" in .* has no session "nope"\n$/);
    expect(existsSync(out)).toBe(false);

    const csv = await agenttrail('export', '--format', 'csv', '--db', db, '--out', out);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/--format: is required: bundle, jsonl, ocsf or otlp/);
    const missing = await agenttrail('export', '--db', db, '--out', out);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--format: is required/);

    const wrongKey = await agenttrail('export', '--format', 'bundle', '--db', db, '--log', LOG, '--session', 'session-a', '--key', stranger.verifierKey, '--out', out);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/cannot export a bundle that verifies: the checkpoint: the note is not signed by a known key/);
    expect((await readdir(folder)).filter((file) => file.startsWith('nope.bundle'))).toEqual([]);
  }, 30_000);

  test('verify --bundle needs a key, and no database options', async () => {
    const bundle = join(folder, 'original.bundle');
    const noKey = await agenttrail('verify', '--bundle', bundle);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--bundle needs --key VERIFIER_KEY/);
    const withDb = await agenttrail('verify', '--bundle', bundle, '--db', db, '--key', signer.verifierKey);
    expect(withDb.code).toBe(2);
    expect(withDb.stderr).toMatch(/drop --db/);
    const missingFile = await agenttrail('verify', '--bundle', join(folder, 'absent.bundle'), '--key', signer.verifierKey);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toMatch(/cannot read the bundle .*absent\.bundle/);
  });
});

describe('c2sp.org/tlog-proof@v1', () => {
  // The example of https://c2sp.org/tlog-proof, byte for byte (its signatures are elided there).
  const SPEC_EXAMPLE = [
    'c2sp.org/tlog-proof@v1',
    'extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ',
    'index 73894',
    'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=',
    'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=',
    'EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=',
    'RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=',
    'AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=',
    '',
    'example.com/fancylog',
    '109482',
    'sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=',
    '',
    '\u2014 example.com/fancylog hI2DJw[...]1roloI=',
    '\u2014 witness1.example mJirIklj[...]qY9v2B/5bg==',
    '',
  ].join('\n');

  test('the spec example parses and formats back byte for byte', () => {
    const proof = parseTlogProof(SPEC_EXAMPLE);
    expect(proof.index).toBe(73894);
    expect(proof.proof).toHaveLength(5);
    expect(Buffer.from(proof.proof[0]!).toString('base64')).toBe('gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=');
    expect(proof.checkpoint.startsWith('example.com/fancylog\n109482\n')).toBe(true);
    expect(formatTlogProof(proof)).toBe(SPEC_EXAMPLE);
    const { extra: _extra, ...withoutExtra } = proof;
    expect(formatTlogProof(withoutExtra)).toBe(SPEC_EXAMPLE.replace(/^extra .*\n/m, ''));
  });

  test('malformed proofs are refused with the line that is wrong', () => {
    expect(() => parseTlogProof(SPEC_EXAMPLE.replace('index 73894', 'index 073894'))).toThrow(/line 3 must be "index <decimal without leading zeros>"/);
    expect(() => parseTlogProof(SPEC_EXAMPLE.replace('c2sp.org/tlog-proof@v1', 'c2sp.org/tlog-proof@v2'))).toThrow(/first line must be c2sp\.org\/tlog-proof@v1/);
    expect(() => parseTlogProof(SPEC_EXAMPLE.replace('B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=', 'B95lDa8R83lS8n0e'))).toThrow(/line 5 \(inclusion proof hash 1\) is 12 bytes/);
    expect(() => parseTlogProof(SPEC_EXAMPLE.replace('\n\nexample.com', '\nexample.com'))).toThrow(/line 9 \(inclusion proof hash 5\) is not valid base64/);
  });
});

async function verifyTampered(name: string, content: string): Promise<CliResult> {
  const path = join(folder, name);
  await writeFile(path, content);
  return agenttrail('verify', '--bundle', path, '--key', signer.verifierKey);
}
