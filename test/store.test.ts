import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalHash } from '../src/ledger/canonical-json.js';
import type { Entry, EntryDraft } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { openStore } from '../src/store/open-store.js';
import type { Store, StoreOptions } from '../src/store/open-store.js';

let folder: string;
let url: string;
const opened: Array<Store | Client> = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-store-'));
  url = pathToFileURL(join(folder, 'audit.db')).href;
});

afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close();
  await rm(folder, { recursive: true, force: true });
});

async function open(options: Omit<StoreOptions, 'url'> = {}): Promise<Store> {
  const store = await openStore({ url, ...options });
  opened.push(store);
  return store;
}

/** A plain second connection, standing in for another process or a person with the sqlite shell. */
function otherConnection(): Client {
  const client = createClient({ url });
  opened.push(client);
  return client;
}

/** The sizes of the log's signed checkpoints, as another connection reads them. */
async function checkpointSizes(log: string): Promise<number[]> {
  const checkpoints = await otherConnection().execute({ sql: 'SELECT size FROM checkpoints WHERE log = ? ORDER BY size', args: [log] });
  return checkpoints.rows.map((row) => Number(row['size']));
}

function draft(n: number, session = 'session-a'): EntryDraft {
  const args = { message: `hello ${n}` };
  return {
    v: 1,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
    kind: 'tool.call',
    session,
    agent: { transport: 'stdio', client: { name: 'test-agent', version: '1.0.0' } },
    server: 'everything',
    method: 'tools/call',
    tool: 'echo',
    name: 'everything__echo',
    call: `call-${n}`,
    argsHash: canonicalHash(args),
    payload: { arguments: args, note: 'é€😀', nested: [1.5, null, true] },
  };
}

/** The entry of draft(n)'s outcome: it ends call-n. */
function resultOf(n: number): EntryDraft {
  const { argsHash: _argsHash, ...request } = draft(n);
  return { ...request, kind: 'tool.result', outcome: 'ok', durationMs: 1, payload: { result: { content: [] } } };
}

const turns = async (count: number): Promise<void> => {
  for (const _ of range(count)) await new Promise((resolve) => setImmediate(resolve));
};

const signer = parseSignerKey(generateSignerKey('test.local/store'));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('openStore', () => {
  it('applies migrations once, however often the database is opened', async () => {
    const [first, second] = await Promise.all([open(), open()]);
    await (await first.appender('log-a', signer)).append(draft(0));
    await first.close();
    await second.close();
    const third = await open();

    const migrations = await otherConnection().execute('SELECT version, name FROM schema_migrations');
    expect(migrations.rows.map((r) => [r['version'], r['name']])).toEqual([
      [1, 'entries'],
      [2, 'merkle tree and checkpoints'],
      [3, 'witness cosignatures'],
      [4, 'principals'],
      [5, 'credentials'],
      [6, 'review: sessions in order, search'],
      [7, 'retention: pruned entries keep their leaf hash'],
      [8, 'principals: the ingest role'],
    ]);
    expect(await third.entries('log-a')).toHaveLength(1);
  });

  it('works with an in-memory database, whose writer must share its one connection', async () => {
    const store = await openStore({ url: ':memory:' });
    opened.push(store);
    const appender = await store.appender('log-a', signer);
    await Promise.all(range(3).map((n) => appender.append(draft(n))));
    expect((await store.entries('log-a')).map((e) => e.index)).toEqual([0, 1, 2]);
  });

  it('puts file databases in WAL mode', async () => {
    await open();
    const result = await otherConnection().execute('PRAGMA journal_mode');
    expect(result.rows[0]?.['journal_mode']).toBe('wal');
  });

  it('names the URL and the missing directory when the folder does not exist', async () => {
    const missing = pathToFileURL(join(folder, 'no-such-folder', 'audit.db')).href;
    await expect(openStore({ url: missing })).rejects.toThrow(
      `cannot open audit database ${missing}: `,
    );
    await expect(openStore({ url: missing })).rejects.toThrow(/check that the directory exists/);
  });

  it('names the URL when the file is not a database, and leaves the file alone', async () => {
    const notes = join(folder, 'notes.txt');
    await writeFile(notes, 'these are my notes, not a database\n');
    const notesUrl = pathToFileURL(notes).href;
    await expect(openStore({ url: notesUrl })).rejects.toThrow(
      new RegExp(`^cannot open audit database ${notesUrl}: .*not a SQLite/libSQL database`),
    );
    expect(await readFile(notes, 'utf8')).toBe('these are my notes, not a database\n');
  });

  it('keeps an auth token in the URL out of error messages', async () => {
    const remote = 'http://127.0.0.1:1/?authToken=top-secret-token';
    const failure = await openStore({ url: remote }).then(
      () => new Error('opened a database that does not exist'),
      (error: unknown) => error,
    );
    expect(String(failure)).toContain('cannot open audit database http://127.0.0.1:1/?authToken=[redacted]');
    expect(String(failure)).not.toContain('top-secret-token');
  });
});

describe('EntryAppender', () => {
  it('group-commits 500 concurrent appends with contiguous indexes and canonical bodies', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);

    const appended = await Promise.all(range(500).map((n) => appender.append(draft(n))));

    expect(appended.map((e) => e.index)).toEqual(range(500));
    expect(appended.map((e) => e.call)).toEqual(range(500).map((n) => `call-${n}`));
    expect(appender.stats().flushes).toBeLessThan(50);
    expect(appender.stats()).toMatchObject({ appended: 500, size: 500, failedFlushes: 0 });

    expect(await store.entries('log-a')).toEqual(appended);
    const rows = await otherConnection().execute(
      "SELECT idx, time, kind, session, server, tool, call, body FROM entries WHERE log = 'log-a' ORDER BY idx",
    );
    expect(rows.rows).toHaveLength(500);
    for (const row of rows.rows) {
      const entry = appended[Number(row['idx'])];
      const body = new Uint8Array(row['body'] as ArrayBuffer);
      expect(body).toEqual(canonicalBytes(entry));
      expect(JSON.parse(new TextDecoder().decode(body))).toEqual(entry);
      expect([row['time'], row['kind'], row['session'], row['server'], row['tool'], row['call']]).toEqual([
        entry?.time, entry?.kind, entry?.session, entry?.server, entry?.tool, entry?.call,
      ]);
    }
  });

  it('commits the appends of one event-loop turn together, under one signed checkpoint', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);
    await appender.append(draft(0));

    // Timers due together run in one turn, as requests and upstream answers that arrive together do:
    // each appends on its own, and the first must not commit before the others have appended.
    const appended = await new Promise<Promise<Entry>[]>((resolve) => {
      const pending: Promise<Entry>[] = [];
      for (const n of range(8)) {
        setTimeout(() => {
          pending.push(appender.append(draft(n + 1)));
          if (pending.length === 8) resolve(pending);
        }, 0);
      }
    });
    await Promise.all(appended);

    expect(appender.stats()).toMatchObject({ flushes: 2, appended: 9 });
    expect(await checkpointSizes('log-a')).toEqual([1, 9]);
  });

  it('waits for the results of calls that have just gone upstream, so that they share one commit', async () => {
    const store = await open({ commitLinger: { maxMs: 10_000, recentMs: 10_000 } });
    const appender = await store.appender('log-a', signer);
    // Three calls' requests in one commit: the three calls now run upstream.
    await Promise.all(range(3).map((n) => appender.append(draft(n))));

    // Their upstreams answer a few turns of the event loop apart, as answers on separate pipes do.
    const results = [appender.append(resultOf(0))];
    await turns(3);
    results.push(appender.append(resultOf(1)));
    await turns(3);
    results.push(appender.append(resultOf(2)));
    await Promise.all(results);

    expect(appender.stats()).toMatchObject({ flushes: 2, appended: 6 });
    expect(await checkpointSizes('log-a')).toEqual([3, 6]);
  });

  it('commits a lone call at once: no other call is running to wait for', async () => {
    // A commit that waited would take ten minutes, far past the test's timeout.
    const store = await open({ commitLinger: { maxMs: 600_000, recentMs: 600_000 } });
    const appender = await store.appender('log-a', signer);
    for (const n of range(3)) {
      await appender.append(draft(n));
      await appender.append(resultOf(n));
    }
    expect(appender.stats()).toMatchObject({ flushes: 6, appended: 6 });
  });

  it('lets go of the file once close resolves: another connection can fold the WAL in at once', async () => {
    const store = await openStore({ url });
    const appender = await store.appender('log-a', signer);
    // Group commits of up to 1000 entries, through the statements the writer keeps prepared.
    await Promise.all(range(3000).map((n) => appender.append(draft(n))));
    await store.close();
    const other = otherConnection();
    await expect(other.execute('PRAGMA wal_checkpoint(TRUNCATE)')).resolves.toMatchObject({ rows: [expect.objectContaining({ busy: 0 })] });
  });

  it('continues the sequence after the database is reopened', async () => {
    const first = await open();
    const before = await first.appender('log-a', signer);
    await Promise.all(range(3).map((n) => before.append(draft(n))));
    await first.close();

    const second = await open();
    const after = await second.appender('log-a', signer);
    expect((await after.append(draft(3))).index).toBe(3);
    expect((await second.entries('log-a')).map((e) => e.index)).toEqual([0, 1, 2, 3]);
  });

  it('keeps one sequence per log in the same database', async () => {
    const store = await open();
    const a = await store.appender('log-a', signer);
    const b = await store.appender('log-b', signer);
    expect(await store.appender('log-a', signer)).toBe(a);
    await Promise.all([a.append(draft(0)), b.append(draft(1)), a.append(draft(2))]);
    expect((await store.entries('log-a')).map((e) => [e.index, e.call])).toEqual([[0, 'call-0'], [1, 'call-2']]);
    expect((await store.entries('log-b')).map((e) => [e.index, e.call])).toEqual([[0, 'call-1']]);
    expect(await store.logs()).toEqual(['log-a', 'log-b']);
  });

  it('rejects a whole batch while another connection holds the write lock, then carries on without a gap', async () => {
    const store = await open({ busyTimeoutMs: 100 });
    const appender = await store.appender('log-a', signer);
    await Promise.all(range(2).map((n) => appender.append(draft(n))));

    const locker = await otherConnection().transaction('write');
    const during = await Promise.allSettled(range(3).map((n) => appender.append(draft(10 + n))));
    for (const outcome of during) {
      expect(outcome.status).toBe('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(
        /^AuditLogWriteError: audit log write failed: .*database is locked/,
      );
    }
    expect(appender.stats()).toMatchObject({ size: 2, failedFlushes: 1 });
    await locker.rollback();

    const later = await appender.append(draft(20));
    expect(later.index).toBe(2);
    expect((await store.entries('log-a')).map((e) => e.call)).toEqual(['call-0', 'call-1', 'call-20']);
  });

  it('refuses only the entry that cannot be encoded, keeping its batch mates contiguous', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);
    const outcomes = await Promise.allSettled([
      appender.append(draft(0)),
      appender.append({ ...draft(1), payload: { size: 10n } }),
      appender.append(draft(2)),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.index : String(o.reason)))).toEqual([
      0,
      'AuditLogWriteError: audit log write failed: cannot encode as canonical JSON (RFC 8785): $.payload.size: ' +
        'BigInt is not a JSON value (convert it to a number or string first)',
      1,
    ]);
  });

  it('refuses a draft that does not match the entry schema', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);
    await expect(appender.append({ ...draft(0), time: '2026-01-01 00:00' })).rejects.toThrow(
      /^audit log write failed: invalid entry: .*time/s,
    );
    expect((await appender.append(draft(1))).index).toBe(0);
  });

  it('appends after the entries another writer of the same log added meanwhile, leaving no gap', async () => {
    const mine = await (await open()).appender('log-a', signer);
    await mine.append(draft(0));
    // E.g. `agenttrail agents suspend` recording its change while the gateway runs.
    const theirs = await (await open()).appender('log-a', signer);
    expect((await theirs.append(draft(1))).index).toBe(1);
    expect((await mine.append(draft(2))).index).toBe(2);
    expect((await theirs.append(draft(3))).index).toBe(3);
    expect((await mine.append(draft(4))).index).toBe(4);
    const reader = await open();
    expect((await reader.entries('log-a')).map((entry) => entry.index)).toEqual([0, 1, 2, 3, 4]);
    expect((await reader.checkpoint('log-a'))?.size).toBe(5);
  });

  it('finishes queued appends on close and refuses appends after it', async () => {
    const store = await openStore({ url });
    const appender = await store.appender('log-a', signer);
    const pending = range(20).map((n) => appender.append(draft(n)));
    await store.close();
    expect((await Promise.all(pending)).map((e) => e.index)).toEqual(range(20));
    await expect(appender.append(draft(99))).rejects.toThrow(/^audit log write failed: the writer of log "log-a" is closed/);

    const reopened = await open();
    expect(await reopened.entries('log-a')).toHaveLength(20);
  });

  it('refuses a log name that cannot be a checkpoint origin', async () => {
    const store = await open();
    await expect(store.appender('my log', signer)).rejects.toThrow(
      /^invalid log name "my log": a log name \(checkpoint origin\) cannot contain spaces or "\+"$/,
    );
  });
});

describe('Store.entries', () => {
  it('filters by session and pages with afterIndex and limit', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);
    await Promise.all(range(10).map((n) => appender.append(draft(n, n % 2 === 0 ? 'even' : 'odd'))));

    expect((await store.entries('log-a', { session: 'odd' })).map((e) => e.index)).toEqual([1, 3, 5, 7, 9]);
    expect((await store.entries('log-a', { afterIndex: 3, limit: 4 })).map((e) => e.index)).toEqual([4, 5, 6, 7]);
    expect((await store.entries('log-a', { session: 'even', afterIndex: 4, limit: 2 })).map((e) => e.index)).toEqual([
      6, 8,
    ]);
    expect(await store.entries('no-such-log')).toEqual([]);
  });

  it('reports a stored body that is not a valid entry, naming it', async () => {
    const store = await open();
    const appender = await store.appender('log-a', signer);
    await appender.append(draft(0));
    await otherConnection().execute("UPDATE entries SET body = CAST('{\"v\":2}' AS BLOB) WHERE log = 'log-a'");
    await expect(store.entries('log-a')).rejects.toThrow(/^entry 0 of log "log-a" does not match the entry schema/);
  });
});
