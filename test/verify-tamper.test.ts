// `agenttrail verify` against a log someone edited behind the gateway's back (issue 3, point 5):
// each case copies one pristine database, changes it with a plain libSQL connection, as a person
// with the sqlite shell would, and runs the built CLI on it. Every case must exit 1 and name the
// entry, checkpoint or tile that is wrong and how.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalHash } from '../src/ledger/canonical-json.js';
import { formatCheckpoint } from '../src/ledger/checkpoint.js';
import type { EntryDraft } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import type { NoteSigner } from '../src/ledger/note-keys.js';
import { parseSignedNote, signNote } from '../src/ledger/signed-note.js';
import { openStore } from '../src/store/open-store.js';
import { AGENTTRAIL_BIN } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const LOG = 'agenttrail.local/gateway';
/** The same log name with its last byte changed; it sorts after LOG. */
const OTHER_LOG = 'agenttrail.local/gatewaz';
const signer = parseSignerKey(generateSignerKey(LOG));
const VKEY = signer.verifierKey;
/** Another key with the same name, as an impostor would make. */
const impostor = parseSignerKey(generateSignerKey(LOG));

// Group commits of these sizes give checkpoints at 10, 40, 100 | 250, 330, 350. The database is
// copied after the first three (the "rolled back" state). At 350 entries, tile 0/0 is full,
// tiles 0/1 (94 hashes) and 1/0 (1 hash) are partial.
const EARLY_GROUPS = [10, 30, 60];
const LATE_GROUPS = [150, 80, 20];
const SIZE = 350;
const CHECKPOINT_SIZES = [10, 40, 100, 250, 330, 350];

let folder: string;
let pristine: string;
let rolledBack: string;
let splitView: string;
let cases = 0;

function time(n: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
}

/** Entry 0 starts the session; then calls and their results, in pairs. */
function draft(n: number, history = 'real'): EntryDraft {
  if (n === 0) return { v: 1, time: time(0), kind: 'session.start', session: 'session-1', agent: { transport: 'stdio' } };
  const args = { message: `hello ${n} (${history})` };
  return {
    v: 1,
    time: time(n),
    kind: n % 2 === 1 ? 'tool.call' : 'tool.result',
    session: 'session-1',
    agent: { transport: 'stdio', client: { name: 'test-agent', version: '1.0.0' } },
    server: 'everything',
    method: 'tools/call',
    tool: 'echo',
    name: 'everything__echo',
    call: `call-${Math.ceil(n / 2)}`,
    argsHash: canonicalHash(args),
    payload: { arguments: args },
  };
}

/** Appends `groups` of entries, each group one commit (one checkpoint), starting at entry `from`. */
async function appendGroups(url: string, key: NoteSigner, groups: readonly number[], from: number, history = 'real'): Promise<void> {
  const store = await openStore({ url });
  try {
    const appender = await store.appender(LOG, key);
    let next = from;
    for (const count of groups) {
      await Promise.all(Array.from({ length: count }, (_, i) => appender.append(draft(next + i, history))));
      next += count;
    }
  } finally {
    await store.close();
  }
}

/** Copies a closed database (and its WAL, should one be left). */
async function copyDatabase(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  if (existsSync(`${from}-wal`)) await copyFile(`${from}-wal`, `${to}-wal`);
}

function urlOf(path: string): string {
  return `file:${path}`;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-verify-tamper-'));
  pristine = join(folder, 'pristine.db');
  rolledBack = join(folder, 'rolled-back.db');
  splitView = join(folder, 'split-view.db');
  await appendGroups(urlOf(pristine), signer, EARLY_GROUPS, 0);
  await copyDatabase(pristine, rolledBack);
  await appendGroups(urlOf(pristine), signer, LATE_GROUPS, 100);
  // Another history of the same log, signed by the same key: what a gateway shows one verifier
  // while it shows the pristine one to another.
  await appendGroups(urlOf(splitView), signer, EARLY_GROUPS, 0, 'forked');
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function agenttrail(args: readonly string[]): Promise<CliResult> {
  return runAgenttrail(args, { cwd: folder });
}

/** A fresh copy of `source` changed by `change` through a plain libSQL connection; returns its URL. */
async function tampered(change: (db: Client) => Promise<unknown>, source = pristine): Promise<string> {
  const path = join(folder, `case-${++cases}.db`);
  await copyDatabase(source, path);
  const db = createClient({ url: urlOf(path) });
  try {
    await change(db);
  } finally {
    db.close();
  }
  return urlOf(path);
}

/** Runs verify with the gateway's key; expects exit 1 and returns the FAILED line. */
async function verifyFails(url: string, ...extra: string[]): Promise<string> {
  const result = await agenttrail(['verify', '--db', url, '--key', VKEY, ...extra]);
  expect(result.stderr).toBe('');
  expect(result.code, result.stdout).toBe(1);
  const failed = result.stdout.split('\n').find((line) => line.startsWith('FAILED: '));
  expect(failed, result.stdout).toBeDefined();
  return failed!;
}

async function bodyOf(db: Client, index: number): Promise<Uint8Array> {
  const result = await db.execute({ sql: 'SELECT body FROM entries WHERE idx = ?', args: [index] });
  return new Uint8Array(result.rows[0]!['body'] as ArrayBuffer);
}

/** The same bytes with the first occurrence of `from` replaced by `to` (of the same length). */
function replaceBytes(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  expect(text).toContain(from);
  return new TextEncoder().encode(text.replace(from, to));
}

function flipByte(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

async function checkpointRow(db: Client, size: number): Promise<{ root: Uint8Array; key: string; note: string }> {
  const result = await db.execute({ sql: 'SELECT root, key, note FROM checkpoints WHERE size = ?', args: [size] });
  const row = result.rows[0]!;
  return { root: new Uint8Array(row['root'] as ArrayBuffer), key: String(row['key']), note: String(row['note']) };
}

async function readCheckpointRow(path: string, size: number): Promise<{ root: Uint8Array; key: string; note: string }> {
  const db = createClient({ url: urlOf(path) });
  try {
    return await checkpointRow(db, size);
  } finally {
    db.close();
  }
}

async function readCheckpointNote(path: string, size: number): Promise<string> {
  return (await readCheckpointRow(path, size)).note;
}

/** Moves entries from `from` on one place up (columns and signed index alike), leaving a hole. */
async function shiftEntriesUp(db: Client, from: number): Promise<void> {
  const rows = await db.execute({ sql: 'SELECT * FROM entries WHERE idx >= ? ORDER BY idx DESC', args: [from] });
  for (const row of rows.rows) {
    const index = Number(row['idx']);
    const entry = JSON.parse(new TextDecoder().decode(new Uint8Array(row['body'] as ArrayBuffer))) as Record<string, unknown>;
    await db.execute({
      sql: 'UPDATE entries SET idx = ?, body = ? WHERE idx = ?',
      args: [index + 1, canonicalBytes({ ...entry, index: index + 1 }), index],
    });
  }
}

const SECOND_LOG = 'agenttrail.local/second';

/** A second log in the database at `url`, with one entry and its checkpoint. */
async function appendToAnotherLog(url: string): Promise<void> {
  const store = await openStore({ url });
  try {
    await (await store.appender(SECOND_LOG, signer)).append(draft(1));
  } finally {
    await store.close();
  }
}

async function insertEntry(db: Client, index: number, entry: EntryDraft): Promise<void> {
  await db.execute({
    sql: 'INSERT INTO entries (log, idx, time, kind, session, server, tool, call, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    args: [LOG, index, entry.time, entry.kind, entry.session, entry.server ?? null, entry.tool ?? null, entry.call ?? null, canonicalBytes({ ...entry, index })],
  });
}

describe('agenttrail verify on an untouched log', () => {
  it('shows its progress on a terminal, and keeps stdout free of it otherwise', async () => {
    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = `'${process.execPath}' '${AGENTTRAIL_BIN}' verify --db '${urlOf(pristine)}' --key '${VKEY}'`;
    const onTerminal = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    expect(onTerminal).toMatch(/verifying agenttrail\.local\/gateway: \d+ entries/);
    expect(onTerminal).toMatch(/log agenttrail\.local\/gateway: OK/);
    const piped = await agenttrail(['verify', '--db', urlOf(pristine), '--key', VKEY]);
    expect(piped.stdout + piped.stderr).not.toMatch(/verifying/);
  });

  it('exits 0 and prints the summary: entries, checkpoints, first and last time, the signing key', async () => {
    const result = await agenttrail(['verify', '--db', urlOf(pristine), '--key', VKEY]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`log ${LOG}: OK`);
    expect(lines[1]).toMatch(new RegExp(`^\\s+entries\\s+${SIZE} \\(${time(0)} to ${time(SIZE - 1)}\\)$`));
    expect(lines[2]).toMatch(new RegExp(`^\\s+checkpoints\\s+${CHECKPOINT_SIZES.length}, latest: size ${SIZE}, root [A-Za-z0-9+/]{43}=$`));
    expect(lines[3]).toMatch(/^\s+signed by\s+(.+)$/);
    expect(lines[3]).toContain(VKEY);
    expect(result.stdout).not.toContain('FAILED');
    expect(result.stdout).not.toContain('no --key given');
  });

  it('without --key says that it trusted the key stored in the database', async () => {
    const result = await agenttrail(['verify', '--db', urlOf(pristine)]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`log ${LOG}: OK`);
    expect(result.stdout).toContain(VKEY);
    expect(result.stdout).toMatch(/no --key given, so the key stored with each log was trusted/);
  });

  it('with --json prints one JSON document with ok:true and the log summary', async () => {
    const result = await agenttrail(['verify', '--db', urlOf(pristine), '--key', VKEY, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      ok: true,
      failure: null,
      logs: [
        {
          log: LOG,
          entries: SIZE,
          checkpoints: CHECKPOINT_SIZES.length,
          firstTime: time(0),
          lastTime: time(SIZE - 1),
          keys: [VKEY],
          latest: { size: SIZE },
          trustedOnFirstUse: null,
        },
      ],
    });
  });

  it('accepts a trusted checkpoint that the log extends (--checkpoint)', async () => {
    const kept = join(folder, 'kept-early.checkpoint');
    await writeFile(kept, await readCheckpointNote(rolledBack, 100));
    const result = await agenttrail(['verify', '--db', urlOf(pristine), '--key', VKEY, '--checkpoint', kept]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe.concurrent('agenttrail verify finds a changed byte in a stored entry column', () => {
  it('log: the entry moves to another log, leaving a hole', async () => {
    const url = await tampered((db) => db.execute({ sql: 'UPDATE entries SET log = ? WHERE idx = 123', args: [OTHER_LOG] }));
    expect(await verifyFails(url)).toBe(`FAILED: log ${LOG}: entry 123: is missing (the next stored entry is 124)`);
  });

  it('idx', async () => {
    const url = await tampered((db) => db.execute('UPDATE entries SET idx = 923 WHERE idx = 123'));
    expect(await verifyFails(url)).toContain('entry 923: column idx is 923 but the signed entry says 123: entries were moved, copied or renumbered');
  });

  const textColumns = [
    ['time', time(123), time(123).replace('.000Z', '.001Z')],
    ['kind', 'tool.call', 'tool.calm'],
    ['session', 'session-1', 'session-2'],
    ['server', 'everything', 'everythinG'],
    ['tool', 'echo', 'echO'],
    ['call', 'call-62', 'call-63'],
  ] as const;
  for (const [column, signed, stored] of textColumns) {
    it(column, async () => {
      const url = await tampered((db) => db.execute({ sql: `UPDATE entries SET ${column} = ? WHERE idx = 123`, args: [stored] }));
      expect(await verifyFails(url)).toContain(`entry 123: column ${column} is "${stored}" but the signed entry says "${signed}"`);
    });
  }

  it('body: a byte of the payload, which no query column repeats', async () => {
    const url = await tampered(async (db) => {
      const body = replaceBytes(await bodyOf(db, 123), 'hello 123', 'hellp 123');
      await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = 123', args: [body] });
    });
    const failed = await verifyFails(url);
    expect(failed).toContain('entry 123: its body is not the one checkpoint 250 signed');
    expect(failed).toContain('the entry was changed');
  });

  it('body: an entry whose tile fills up before the next checkpoint is blamed, not the tile', async () => {
    // Entry 252 is first covered by checkpoint 330; tile 0/0 fills at 256, on the way there.
    const url = await tampered(async (db) => {
      const body = replaceBytes(await bodyOf(db, 252), 'hello 252', 'hello 253');
      await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = 252', args: [body] });
    });
    expect(await verifyFails(url)).toMatch(new RegExp(`^FAILED: log ${LOG}: entry 252: its body is not the one checkpoint 330 signed`));
  });

  it('body: a byte that makes it no JSON at all', async () => {
    const url = await tampered(async (db) => {
      const body = replaceBytes(await bodyOf(db, 123), '{', '[');
      await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = 123', args: [body] });
    });
    expect(await verifyFails(url)).toContain('entry 123: its stored body is not JSON');
  });

  it('body: the same bytes stored as text, not as a BLOB', async () => {
    // Entry 5 is in the first page of entries, which is read before anything else is checked.
    const url = await tampered((db) => db.execute('UPDATE entries SET body = CAST(body AS TEXT) WHERE idx = 5'));
    const result = await agenttrail(['verify', '--db', url, '--key', VKEY]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`the body of entry 5 of log "${LOG}" is not stored as a BLOB`);
  });
});

describe.concurrent('agenttrail verify finds a changed byte in a stored checkpoint column', () => {
  it('log: the checkpoint moves to another log', async () => {
    const url = await tampered((db) => db.execute({ sql: 'UPDATE checkpoints SET log = ? WHERE size = 100', args: [OTHER_LOG] }));
    expect(await verifyFails(url)).toContain(
      `FAILED: log ${OTHER_LOG}: checkpoint 100: its signed origin is "${LOG}", but it is stored under log "${OTHER_LOG}"`,
    );
  });

  it('size', async () => {
    const url = await tampered((db) => db.execute('UPDATE checkpoints SET size = 109 WHERE size = 100'));
    expect(await verifyFails(url)).toContain('checkpoint 109: column size is 109 but the signed checkpoint says 100');
  });

  it('size, to more entries than are stored', async () => {
    const url = await tampered((db) => db.execute('UPDATE checkpoints SET size = 900 WHERE size = 100'));
    expect(await verifyFails(url)).toContain('checkpoint 900: column size is 900 but the signed checkpoint says 100');
  });

  it('root', async () => {
    const url = await tampered(async (db) => {
      const { root } = await checkpointRow(db, 100);
      await db.execute({ sql: 'UPDATE checkpoints SET root = ? WHERE size = 100', args: [flipByte(root, 7)] });
    });
    expect(await verifyFails(url)).toContain('checkpoint 100: column root differs from the signed checkpoint');
  });

  it('key', async () => {
    const changed = VKEY.replace(/\+([0-9a-f])/, (_, digit: string) => `+${digit === '0' ? '1' : '0'}`);
    const url = await tampered((db) => db.execute({ sql: 'UPDATE checkpoints SET key = ? WHERE size = 100', args: [changed] }));
    expect(await verifyFails(url)).toContain(`checkpoint 100: column key names ${changed}, which did not sign it`);
  });

  it('note: a byte of the signature', async () => {
    const url = await tampered(async (db) => {
      const { note } = await checkpointRow(db, 100);
      const at = note.lastIndexOf(' ') + 20;
      const changed = note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1);
      await db.execute({ sql: 'UPDATE checkpoints SET note = ? WHERE size = 100', args: [changed] });
    });
    const failed = await verifyFails(url);
    expect(failed).toContain(`checkpoint 100: the signature by ${LOG}+`);
    expect(failed).toContain('is invalid: the note was altered or not signed by this key');
  });

  it('note: a byte of the signed text (the size line)', async () => {
    const url = await tampered(async (db) => {
      const { note } = await checkpointRow(db, 100);
      await db.execute({ sql: 'UPDATE checkpoints SET note = ? WHERE size = 100', args: [note.replace('\n100\n', '\n101\n')] });
    });
    expect(await verifyFails(url)).toMatch(/checkpoint 100: the signature by .* is invalid/);
  });
});

describe.concurrent('agenttrail verify finds a changed byte in a stored tile', () => {
  it('a full tile (0/0)', async () => {
    const url = await tampered(async (db) => {
      const result = await db.execute('SELECT hashes FROM tiles WHERE level = 0 AND idx = 0');
      const hashes = new Uint8Array(result.rows[0]!['hashes'] as ArrayBuffer);
      expect(hashes.length).toBe(256 * 32);
      await db.execute({ sql: 'UPDATE tiles SET hashes = ? WHERE level = 0 AND idx = 0', args: [flipByte(hashes, 17 * 32 + 5)] });
    });
    const failed = await verifyFails(url);
    expect(failed).toContain('tile 0/0: hash 17 (the leaf hash of entry 17) differs from the one recomputed from the stored entries');
    expect(failed).toContain('the tile was changed');
  });

  it('a partial tile on the right edge (0/1)', async () => {
    const url = await tampered(async (db) => {
      const result = await db.execute('SELECT hashes FROM tiles WHERE level = 0 AND idx = 1');
      const hashes = new Uint8Array(result.rows[0]!['hashes'] as ArrayBuffer);
      expect(hashes.length).toBe((SIZE - 256) * 32);
      await db.execute({ sql: 'UPDATE tiles SET hashes = ? WHERE level = 0 AND idx = 1', args: [flipByte(hashes, 3 * 32)] });
    });
    expect(await verifyFails(url)).toContain('tile 0/1: hash 3 (the leaf hash of entry 259) differs from the one recomputed from the stored entries');
  });

  it('a tile of the next level (1/0)', async () => {
    const url = await tampered(async (db) => {
      const result = await db.execute('SELECT hashes FROM tiles WHERE level = 1 AND idx = 0');
      await db.execute({ sql: 'UPDATE tiles SET hashes = ? WHERE level = 1 AND idx = 0', args: [flipByte(new Uint8Array(result.rows[0]!['hashes'] as ArrayBuffer), 31)] });
    });
    expect(await verifyFails(url)).toContain('tile 1/0: hash 0 differs from the one recomputed from the stored entries');
  });
});

describe.concurrent('agenttrail verify finds missing, added and moved entries', () => {
  it('an entry deleted from the middle', async () => {
    const url = await tampered((db) => db.execute('DELETE FROM entries WHERE idx = 123'));
    expect(await verifyFails(url)).toContain('entry 123: is missing (the next stored entry is 124)');
  });

  it('an entry inserted in the middle, the later ones renumbered in their columns and bodies', async () => {
    const url = await tampered(async (db) => {
      await shiftEntriesUp(db, 200);
      await insertEntry(db, 200, { ...draft(200), payload: { arguments: { message: 'never said' } } });
    });
    expect(await verifyFails(url)).toContain('entry 200: its body is not the one checkpoint 250 signed');
  });

  it('an entry added after the last checkpoint', async () => {
    const url = await tampered((db) => insertEntry(db, SIZE, draft(SIZE)));
    expect(await verifyFails(url)).toContain(
      `entry ${SIZE}: is not covered by any signed checkpoint (the latest covers ${SIZE} entries): it was added after the last checkpoint was signed`,
    );
  });

  it('an entry duplicated at a new index', async () => {
    const url = await tampered((db) =>
      db.execute({ sql: `INSERT INTO entries (log, idx, time, kind, session, server, tool, call, body) SELECT log, ?, time, kind, session, server, tool, call, body FROM entries WHERE idx = 123`, args: [SIZE] }),
    );
    expect(await verifyFails(url)).toContain(`entry ${SIZE}: column idx is ${SIZE} but the signed entry says 123: entries were moved, copied or renumbered`);
  });

  it('two entries reordered (their bodies swapped)', async () => {
    const url = await tampered(async (db) => {
      const [first, second] = [await bodyOf(db, 123), await bodyOf(db, 124)];
      await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = 123', args: [second] });
      await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = 124', args: [first] });
    });
    expect(await verifyFails(url)).toContain('entry 123: column idx is 123 but the signed entry says 124');
  });

  it('two entries reordered with every column and signed index made to match', async () => {
    const url = await tampered(async (db) => {
      await db.execute('UPDATE entries SET idx = -1 WHERE idx = 123');
      await db.execute('UPDATE entries SET idx = 123 WHERE idx = 124');
      await db.execute('UPDATE entries SET idx = 124 WHERE idx = -1');
      for (const index of [123, 124]) {
        const entry = JSON.parse(new TextDecoder().decode(await bodyOf(db, index))) as Record<string, unknown>;
        await db.execute({ sql: 'UPDATE entries SET body = ? WHERE idx = ?', args: [canonicalBytes({ ...entry, index }), index] });
      }
    });
    expect(await verifyFails(url)).toContain('entry 123: its body is not the one checkpoint 250 signed');
  });

  it('the tail truncated, its checkpoints left', async () => {
    const url = await tampered((db) => db.execute('DELETE FROM entries WHERE idx >= 340'));
    expect(await verifyFails(url)).toContain(`checkpoint ${SIZE}: covers ${SIZE} entries but only 340 are stored: entries at the end of the log were removed`);
  });
});

describe.concurrent('agenttrail verify finds forged, foreign and rolled-back checkpoints', () => {
  it('a rollback that a later checkpoint the verifier kept reveals (--checkpoint)', async () => {
    // The rolled-back database is consistent in itself: entries, tiles and checkpoints of 100.
    const alone = await agenttrail(['verify', '--db', urlOf(rolledBack), '--key', VKEY]);
    expect(alone.code, alone.stdout).toBe(0);
    const kept = join(folder, 'kept-latest.checkpoint');
    await writeFile(kept, await readCheckpointNote(pristine, SIZE));
    expect(await verifyFails(urlOf(rolledBack), '--checkpoint', kept)).toContain(
      `holds 100 entries, but the trusted checkpoint covers ${SIZE}: the database was rolled back or its tail removed`,
    );
  });

  it('a kept checkpoint of one log holds no other log of the database to it', async () => {
    const path = join(folder, `case-${++cases}.db`);
    await copyDatabase(pristine, path);
    await appendToAnotherLog(urlOf(path));
    const kept = join(folder, 'kept-of-one-log.checkpoint');
    await writeFile(kept, await readCheckpointNote(pristine, SIZE));
    const result = await agenttrail(['verify', '--db', urlOf(path), '--key', VKEY, '--checkpoint', kept]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(`log ${LOG}: OK`);
    expect(result.stdout).toContain(`log ${SECOND_LOG}: OK`);
  });

  it('a kept checkpoint of a log that the database no longer holds', async () => {
    const url = urlOf(join(folder, `case-${++cases}.db`));
    await appendToAnotherLog(url);
    const kept = join(folder, 'kept-of-a-lost-log.checkpoint');
    await writeFile(kept, await readCheckpointNote(pristine, SIZE));
    expect(await verifyFails(url, '--checkpoint', kept)).toBe(
      `FAILED: log ${LOG}: the trusted checkpoint: is for log "${LOG}", which the database does not hold: the log was removed, or this is another database`,
    );
  });

  it('a checkpoint re-signed by a key the verifier does not know', async () => {
    const url = await tampered(async (db) => {
      const { note } = await checkpointRow(db, 100);
      const resigned = signNote(parseSignedNote(note).text, [impostor]);
      await db.execute({ sql: 'UPDATE checkpoints SET note = ?, key = ? WHERE size = 100', args: [resigned, impostor.verifierKey] });
    });
    const failed = await verifyFails(url);
    const id = (key: string): string => key.split('+').slice(0, 2).join('+');
    expect(failed).toContain(`checkpoint 100: the note is not signed by a known key: signed by ${id(impostor.verifierKey)}; known keys: ${id(VKEY)}`);
  });

  it('a checkpoint of another history signed by the same key (split view)', async () => {
    const foreign = await readCheckpointRow(splitView, 40);
    const url = await tampered((db) =>
      db.execute({ sql: 'UPDATE checkpoints SET note = ?, root = ? WHERE size = 40', args: [foreign.note, foreign.root] }),
    );
    const failed = await verifyFails(url);
    expect(failed).toContain('checkpoint 40: its signed root');
    expect(failed).toContain('is not the root of the stored entries');
    expect(failed).toContain('split view');
  });

  it('a kept checkpoint of another history (split view, --checkpoint)', async () => {
    const kept = join(folder, 'kept-foreign.checkpoint');
    await writeFile(kept, await readCheckpointNote(splitView, 40));
    const failed = await verifyFails(urlOf(pristine), '--checkpoint', kept);
    expect(failed).toContain('the trusted checkpoint: its signed root');
    expect(failed).toContain('split view');
  });

  it('a checkpoint for more entries than are stored', async () => {
    const url = await tampered(async (db) => {
      const root = new Uint8Array(32).fill(7);
      const note = signNote(formatCheckpoint({ origin: LOG, size: SIZE + 10, root, extensions: [] }), [signer]);
      await db.execute({ sql: 'INSERT INTO checkpoints (log, size, root, key, note) VALUES (?, ?, ?, ?, ?)', args: [LOG, SIZE + 10, root, VKEY, note] });
    });
    expect(await verifyFails(url)).toContain(`checkpoint ${SIZE + 10}: covers ${SIZE + 10} entries but only ${SIZE} are stored`);
  });

  it('a log without any checkpoint', async () => {
    const url = await tampered((db) => db.execute('DELETE FROM checkpoints'));
    expect(await verifyFails(url)).toContain('entry 0: is not covered by any signed checkpoint (the log has none)');
  });
});

describe.concurrent('agenttrail verify output and usage', () => {
  it('with --json prints one JSON document with ok:false and the failure', async () => {
    const url = await tampered((db) => db.execute('DELETE FROM entries WHERE idx = 123'));
    const result = await agenttrail(['verify', '--db', url, '--key', VKEY, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: false, logs: [], failure: { log: LOG, subject: 'entry 123', reason: 'is missing (the next stored entry is 124)' } });
  });

  it('fails for a --log that the database does not hold, rather than passing it as empty', async () => {
    expect(await verifyFails(urlOf(pristine), '--log', OTHER_LOG)).toBe(
      `FAILED: log ${OTHER_LOG}: the log: is not in the database, which holds "${LOG}"`,
    );
  });

  it('exits 2 with the reason for a --key that is no verifier key', async () => {
    const result = await agenttrail(['verify', '--db', urlOf(pristine), '--key', 'not-a-key']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('agenttrail: --key: verifier key "not-a-key" is malformed');
  });

  it('exits 2 with the reason for a --checkpoint file that does not exist', async () => {
    const missing = join(folder, 'no-such.checkpoint');
    const result = await agenttrail(['verify', '--db', urlOf(pristine), '--key', VKEY, '--checkpoint', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot read the trusted checkpoint ${missing}`);
  });

  it('exits 2 for a --db file that does not exist, and does not create it', async () => {
    const missing = join(folder, 'no-such.db');
    const result = await agenttrail(['verify', '--db', urlOf(missing), '--key', VKEY]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no audit database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});
