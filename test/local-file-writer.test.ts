import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalFileWriter } from '../src/store/local-file-writer.js';

// The writer thread binds values its own way (BLOBs as hex, whole numbers as INTEGER); what a
// reader gets back must be exactly what was written, as through @libsql/client.

let folder: string;
let path: string;
let reader: Client;
let writer: LocalFileWriter | undefined;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-writer-'));
  path = join(folder, 'audit.db');
  reader = createClient({ url: `file:${path}` });
  await reader.execute('PRAGMA journal_mode = WAL');
  await reader.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, n, label TEXT, bytes BLOB, absent)');
});

afterEach(async () => {
  await writer?.close();
  writer = undefined;
  reader.close();
  await rm(folder, { recursive: true, force: true });
});

async function openWriter(): Promise<LocalFileWriter> {
  writer = await LocalFileWriter.open(path, 1000);
  return writer;
}

it('stores BLOBs byte for byte, whole numbers as INTEGER, fractions as REAL, text and NULL as given', async () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
  const view = new Uint8Array(new ArrayBuffer(64), 16, 8).fill(0xab);
  await (await openWriter()).write([
    { sql: 'INSERT INTO t (id, n, label, bytes, absent) VALUES (?, ?, ?, ?, ?)', args: [1, 2 ** 40, 'naïve ✓ \u0000 end', bytes, null] },
    { sql: 'INSERT INTO t (id, n, label, bytes) VALUES (?, ?, ?, ?)', args: [2, 1.5, '', view] },
    { sql: 'INSERT INTO t (id, n, bytes) VALUES (?, ?, ?)', args: [3, -7, new Uint8Array(0)] },
  ]);
  const rows = (await reader.execute('SELECT id, n, typeof(n) AS nType, hex(label) AS label, bytes, typeof(bytes) AS bytesType, absent FROM t ORDER BY id')).rows;
  expect(rows.map((row) => [row['n'], row['nType'], row['label'], row['bytesType'], row['absent']])).toEqual([
    // Compared as hex: readers stop at the NUL, but the stored text must not (the API would cut it).
    [2 ** 40, 'integer', Buffer.from('naïve ✓ \u0000 end').toString('hex').toUpperCase(), 'blob', null],
    [1.5, 'real', '', 'blob', null],
    [-7, 'integer', '', 'blob', null],
  ]);
  expect(new Uint8Array(rows[0]!['bytes'] as ArrayBuffer)).toEqual(bytes);
  expect(new Uint8Array(rows[1]!['bytes'] as ArrayBuffer)).toEqual(new Uint8Array(8).fill(0xab));
  expect(new Uint8Array(rows[2]!['bytes'] as ArrayBuffer)).toEqual(new Uint8Array(0));
});

it('rolls the whole write back when one statement fails, and says why with the SQLite code', async () => {
  await reader.execute("INSERT INTO t (id, label) VALUES (5, 'there before')");
  const failure = (await openWriter())
    .write([
      { sql: 'INSERT INTO t (id, label) VALUES (?, ?)', args: [4, 'part of the failed write'] },
      { sql: 'INSERT INTO t (id, label) VALUES (?, ?)', args: [5, 'clashes'] },
    ])
    .catch((error: unknown) => error);
  await expect(failure).resolves.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY', message: expect.stringContaining('UNIQUE constraint failed: t.id') });
  expect((await reader.execute('SELECT id, label FROM t ORDER BY id')).rows.map((row) => [row['id'], row['label']])).toEqual([[5, 'there before']]);
  // The connection is usable again: the failed transaction did not stay open.
  await writer!.write([{ sql: 'INSERT INTO t (id) VALUES (?)', args: [6] }]);
  expect((await reader.execute('SELECT COUNT(*) AS n FROM t')).rows[0]!['n']).toBe(2);
});

it('refuses a statement whose placeholders it cannot count, rather than binding the wrong values', async () => {
  const w = await openWriter();
  await expect(w.write([{ sql: "INSERT INTO t (id, label) VALUES (?, 'what?')", args: [7] }])).rejects.toThrow(/quoted text or numbered parameters/);
  await expect(w.write([{ sql: 'INSERT INTO t (id, label) VALUES (?1, ?2)', args: [7, 'x'] }])).rejects.toThrow(/quoted text or numbered parameters/);
  expect((await reader.execute('SELECT COUNT(*) AS n FROM t')).rows[0]!['n']).toBe(0);
});

it('waits for the write lock up to its busy timeout, then fails with SQLITE_BUSY and leaves the file as it was', async () => {
  const holder = createClient({ url: `file:${path}` });
  const transaction = await holder.transaction('write');
  try {
    await transaction.execute("INSERT INTO t (id, label) VALUES (8, 'held')");
    await expect((await openWriter()).write([{ sql: 'INSERT INTO t (id) VALUES (?)', args: [9] }])).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
  } finally {
    await transaction.rollback();
    holder.close();
  }
  await writer!.write([{ sql: 'INSERT INTO t (id) VALUES (?)', args: [9] }]);
  expect((await reader.execute('SELECT id FROM t')).rows.map((row) => row['id'])).toEqual([9]);
});

it('refuses writes once closed, naming that', async () => {
  const w = await openWriter();
  await w.close();
  await expect(w.write([{ sql: 'INSERT INTO t (id) VALUES (?)', args: [10] }])).rejects.toThrow("the audit log's writer is closed");
});

it('cannot open a file in a folder that does not exist, and says so', async () => {
  await expect(LocalFileWriter.open(join(folder, 'missing', 'audit.db'), 1000)).rejects.toThrow(/unable to open|no such file|cannot open/i);
});
