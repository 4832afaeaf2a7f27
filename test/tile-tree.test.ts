import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import type { Client } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalHash } from '../src/ledger/canonical-json.js';
import { parseCheckpoint } from '../src/ledger/checkpoint.js';
import type { Entry, EntryDraft } from '../src/ledger/entry.js';
import { leafHash } from '../src/ledger/merkle-hash.js';
import { generateSignerKey, parseSignerKey, parseVerifierKey } from '../src/ledger/note-keys.js';
import { verifyConsistency, verifyInclusion } from '../src/ledger/proof-verification.js';
import { verifyNote } from '../src/ledger/signed-note.js';
import { TileFrontier } from '../src/ledger/tile-frontier.js';
import type { Tile } from '../src/ledger/tiles.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/open-store.js';

// ---------------------------------------------------------------------------------------------
// An independent reference: RFC 6962 section 2.1, hashed with node:crypto, not the project's code.

const sha256 = (...chunks: Uint8Array[]): Uint8Array => {
  const hasher = createHash('sha256');
  for (const chunk of chunks) hasher.update(chunk);
  return new Uint8Array(hasher.digest());
};
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** MTH(D[begin:end]) over the leaf hashes `leafAt(i)`; perfect subtrees are remembered across sizes. */
class ReferenceTree {
  readonly #leafAt: (index: number) => Uint8Array;
  readonly #perfect = new Map<string, Uint8Array>();

  constructor(leafAt: (index: number) => Uint8Array) {
    this.#leafAt = leafAt;
  }

  root(size: number): Uint8Array {
    return this.hash(0, size);
  }

  hash(begin: number, end: number): Uint8Array {
    const n = end - begin;
    if (n === 0) return sha256();
    if (n === 1) return this.#leafAt(begin);
    const isPerfect = (n & (n - 1)) === 0;
    const key = `${begin}:${end}`;
    const known = isPerfect ? this.#perfect.get(key) : undefined;
    if (known !== undefined) return known;
    // k is the largest power of two smaller than n.
    let k = 1;
    while (k * 2 < n) k *= 2;
    const hash = sha256(Uint8Array.of(0x01), this.hash(begin, begin + k), this.hash(begin + k, end));
    if (isPerfect) this.#perfect.set(key, hash);
    return hash;
  }

  /** The tiles of the tree at `size`: 256 node hashes of height 8·L per tile at level L, hex. */
  tiles(size: number): Map<string, string> {
    const tiles = new Map<string, string>();
    for (let level = 0, span = 1; Math.floor(size / span) > 0; level++, span *= 256) {
      const nodes = Math.floor(size / span);
      for (let index = 0; index * 256 < nodes; index++) {
        const hashes: string[] = [];
        for (let k = index * 256; k < Math.min(nodes, (index + 1) * 256); k++) hashes.push(hex(this.hash(k * span, (k + 1) * span)));
        tiles.set(`${level}/${index}`, hashes.join(''));
      }
    }
    return tiles;
  }
}

/** Cheap distinct 32-byte leaf hashes: the tree code never looks inside them. */
const cheapLeaf = (index: number): Uint8Array => {
  const hash = new Uint8Array(32).fill(0xa5);
  new DataView(hash.buffer).setUint32(0, index);
  return hash;
};

const leaves = (from: number, to: number): Uint8Array[] => Array.from({ length: to - from }, (_, i) => cheapLeaf(from + i));

/** The tiles as a writer stores them: each changed tile replaces the earlier version of it. */
class TileMap {
  readonly tiles = new Map<string, Uint8Array[]>();

  apply(changed: readonly Tile[]): void {
    for (const tile of changed) this.tiles.set(`${tile.level}/${tile.index}`, [...tile.hashes]);
  }

  read = (level: number, index: number): readonly Uint8Array[] | undefined => this.tiles.get(`${level}/${index}`);

  asHex(): Map<string, string> {
    return new Map([...this.tiles].map(([key, hashes]) => [key, hashes.map(hex).join('')]));
  }

  copy(): TileMap {
    const copy = new TileMap();
    for (const [key, hashes] of this.tiles) copy.tiles.set(key, [...hashes]);
    return copy;
  }
}

// Vitest compares Uint8Arrays element by element; hex keeps comparisons of many tiles fast.
const tilesAsHex = (tiles: readonly Tile[]): string[] => tiles.map((t) => `${t.level}/${t.index}:${t.hashes.map(hex).join('')}`);

/** A small seeded generator (mulberry32), so a failure names a batch sequence that reproduces. */
function randomSource(seed: number): (max: number) => number {
  let state = seed >>> 0;
  return (max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * max);
  };
}

const reference = new ReferenceTree(cheapLeaf);

function expectTree(frontier: TileFrontier, tiles: TileMap, size: number): void {
  expect(frontier.size).toBe(size);
  expect(hex(frontier.root()), `root at size ${size}`).toBe(hex(reference.root(size)));
  expect(tiles.asHex(), `tiles at size ${size}`).toEqual(reference.tiles(size));
}

describe('TileFrontier', () => {
  it('has the RFC 6962 root and tiles at every size up to 600, leaves appended one at a time', () => {
    let frontier = TileFrontier.empty();
    const tiles = new TileMap();
    for (let size = 0; size <= 600; size++) {
      expectTree(frontier, tiles, size);
      const step = frontier.append([cheapLeaf(size)]);
      tiles.apply(step.changed);
      frontier = step.frontier;
    }
  });

  it('has the same roots and tiles when leaves come in random batches', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = randomSource(seed);
      let frontier = TileFrontier.empty();
      const tiles = new TileMap();
      while (frontier.size < 600) {
        const size = Math.min(600, frontier.size + 1 + random(seed % 2 === 0 ? 20 : 300));
        const step = frontier.append(leaves(frontier.size, size));
        tiles.apply(step.changed);
        frontier = step.frontier;
        expectTree(frontier, tiles, size);
      }
    }
  });

  it('reports no tile as changed for an empty batch', () => {
    const { frontier } = TileFrontier.empty().append(leaves(0, 300));
    const step = frontier.append([]);
    expect(step.changed).toEqual([]);
    expect(hex(step.frontier.root())).toBe(hex(frontier.root()));
  });

  it('has the RFC 6962 root and tiles around 65,536 leaves, where a third tile level starts', () => {
    const targets = [65_280, 65_535, 65_536, 65_537, 65_791, 65_792, 66_050];
    const random = randomSource(65_536);
    let frontier = TileFrontier.empty();
    const tiles = new TileMap();
    for (const target of targets) {
      while (frontier.size < target) {
        const size = Math.min(target, frontier.size + 1 + random(3000));
        const step = frontier.append(leaves(frontier.size, size));
        tiles.apply(step.changed);
        frontier = step.frontier;
      }
      expectTree(frontier, tiles, target);
    }
    expect([...tiles.tiles.keys()]).toContain('2/0');
  });

  it('continues identically when rebuilt from the right-edge tiles a writer stored', () => {
    const check = (upTo: readonly number[], continueWith: number): void => {
      const random = randomSource(upTo.length);
      let original = TileFrontier.empty();
      const tiles = new TileMap();
      for (const size of upTo) {
        const step = original.append(leaves(original.size, size));
        tiles.apply(step.changed);
        original = step.frontier;

        let rebuilt = TileFrontier.fromRightEdge(size, tiles.read);
        expect(rebuilt.size).toBe(size);
        expect(hex(rebuilt.root()), `rebuilt root at ${size}`).toBe(hex(original.root()));
        expect(tilesAsHex(rebuilt.rightEdge())).toEqual(tilesAsHex(original.rightEdge()));
        // The rebuilt frontier only needs the tiles rightEdgeTiles names.
        const edge = new Set(TileFrontier.rightEdgeTiles(size).map((t) => `${t.level}/${t.index}`));
        TileFrontier.fromRightEdge(size, (level, index) => {
          expect(edge.has(`${level}/${index}`), `read tile ${level}/${index} at ${size}`).toBe(true);
          return tiles.read(level, index);
        });

        // Same leaves into both: same roots and the same tiles written.
        let copy = original;
        let total = size;
        for (let batch = 0; batch < 3; batch++) {
          const next = total + random(continueWith) + (batch === 0 ? 1 : 0);
          const fromOriginal = copy.append(leaves(total, next));
          const fromRebuilt = rebuilt.append(leaves(total, next));
          expect(hex(fromRebuilt.frontier.root()), `continued root at ${next}`).toBe(hex(fromOriginal.frontier.root()));
          expect(tilesAsHex(fromRebuilt.changed)).toEqual(tilesAsHex(fromOriginal.changed));
          copy = fromOriginal.frontier;
          rebuilt = fromRebuilt.frontier;
          total = next;
        }
        expect(hex(rebuilt.root())).toBe(hex(reference.root(total)));
      }
    };
    check(Array.from({ length: 601 }, (_, size) => size), 300);
    check([65_280, 65_535, 65_536, 65_537, 65_792], 600);
  });

  it('ignores hashes stored past the size it is rebuilt at, as a later commit leaves them', () => {
    const tiles = new TileMap();
    let frontier = TileFrontier.empty();
    const roots = new Map<number, string>();
    for (const size of [1, 255, 256, 257, 300, 511, 513, 600]) {
      const step = frontier.append(leaves(frontier.size, size));
      tiles.apply(step.changed);
      frontier = step.frontier;
      roots.set(size, hex(frontier.root()));
    }
    for (const [size, root] of roots) {
      expect(hex(TileFrontier.fromRightEdge(size, tiles.read).root()), `root at ${size} from the tiles of 600`).toBe(root);
    }
  });

  it('refuses to rebuild from a tile that is shorter than the size needs, naming the tile', () => {
    const tiles = new TileMap();
    tiles.apply(TileFrontier.empty().append(leaves(0, 300)).changed);
    expect(() => TileFrontier.fromRightEdge(310, tiles.read)).toThrow(
      'tile 0/1 has 44 hashes, but a tree of 310 leaves needs 54',
    );
    tiles.tiles.delete('1/0');
    expect(() => TileFrontier.fromRightEdge(300, tiles.read)).toThrow(/^tile 1\/0 has 0 hashes/);
  });
});

// ---------------------------------------------------------------------------------------------
// The store: every group commit integrates its entries and signs a checkpoint of the whole tree.

const LOG = 'test.local/tile-tree';
const signer = parseSignerKey(generateSignerKey('test.local/tile-tree'));
const verifier = parseVerifierKey(signer.verifierKey);

let folder: string;
let url: string;
const opened: Array<Store | Client> = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-tile-tree-'));
  url = pathToFileURL(join(folder, 'audit.db')).href;
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
  await rm(folder, { recursive: true, force: true });
});

async function open(): Promise<Store> {
  const store = await openStore({ url });
  opened.push(store);
  return store;
}

/** A plain second connection, as another process or the sqlite shell would have. */
function rawConnection(): Client {
  const client = createClient({ url });
  opened.push(client);
  return client;
}

function draft(n: number): EntryDraft {
  const args = { message: `entry ${n}` };
  return {
    v: 1,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
    kind: n % 2 === 0 ? 'tool.call' : 'tool.result',
    session: `session-${n % 3}`,
    agent: { transport: 'http', client: { name: 'tile-tree-test', version: '1.0.0' } },
    server: 'everything',
    method: 'tools/call',
    tool: 'echo',
    call: `call-${Math.floor(n / 2)}`,
    argsHash: canonicalHash(args),
    payload: { arguments: args },
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** The reference tree of the log's stored entries, leaf = SHA-256(0x00 || canonical entry). */
async function referenceOf(store: Store): Promise<{ entries: Entry[]; tree: ReferenceTree; leaves: Uint8Array[] }> {
  const entries = await store.entries(LOG);
  const leafHashes = entries.map((entry) => sha256(Uint8Array.of(0x00), canonicalBytes(entry)));
  return { entries, tree: new ReferenceTree((i) => leafHashes[i]!), leaves: leafHashes };
}

/** Every stored checkpoint, after checking its signature and that its columns repeat its note. */
async function signedCheckpoints(store: Store): Promise<{ size: number; root: Uint8Array }[]> {
  const checkpoints: { size: number; root: Uint8Array }[] = [];
  for await (const page of store.checkpointRows(LOG)) {
    for (const row of page) {
      const { text } = verifyNote(row.note, [verifier]);
      const signed = parseCheckpoint(text);
      expect(signed.origin).toBe(LOG);
      expect(signed.size).toBe(row.size);
      expect(hex(signed.root)).toBe(hex(row.root));
      expect(row.key).toBe(signer.verifierKey);
      checkpoints.push({ size: signed.size, root: signed.root });
    }
  }
  return checkpoints;
}

/** The latest checkpoint covers every stored entry, and every checkpoint's root is the reference's. */
async function expectCheckpointsMatchEntries(store: Store, expectedSize: number): Promise<void> {
  const { entries, tree } = await referenceOf(store);
  expect(entries.map((e) => e.index)).toEqual(range(0, expectedSize));
  const checkpoints = await signedCheckpoints(store);
  expect(checkpoints.at(-1)?.size).toBe(expectedSize);
  for (const checkpoint of checkpoints) {
    expect(hex(checkpoint.root), `root of checkpoint ${checkpoint.size}`).toBe(hex(tree.root(checkpoint.size)));
  }
}

/** The stored tiles are exactly those of the reference tree at `size`. */
async function expectStoredTiles(store: Store, size: number): Promise<void> {
  const { tree } = await referenceOf(store);
  const stored = new Map<string, string>();
  const top = await store.topTileLevel(LOG);
  for (let level = 0; level <= top; level++) {
    for await (const page of store.tileRows(LOG, level)) {
      for (const tile of page) stored.set(`${tile.level}/${tile.index}`, hex(tile.hashes));
    }
  }
  expect(stored, `stored tiles at size ${size}`).toEqual(tree.tiles(size));
}

async function expectProofsVerify(store: Store, sizes: readonly number[]): Promise<void> {
  const { leaves: leafHashes } = await referenceOf(store);
  const roots = new Map<number, Uint8Array>();
  for (const size of sizes) {
    const checkpoint = await store.checkpoint(LOG, size);
    if (checkpoint === undefined) throw new Error(`no checkpoint of size ${size}`);
    roots.set(size, checkpoint.root);
  }
  for (const size of sizes) {
    const root = roots.get(size)!;
    for (let index = 0; index < size; index++) {
      const proof = await store.inclusionProof(LOG, index, size);
      verifyInclusion(BigInt(index), BigInt(size), leafHashes[index]!, proof, root);
    }
  }
  for (const size1 of sizes) {
    for (const size2 of sizes) {
      if (size1 === 0 || size1 > size2) continue;
      const proof = await store.consistencyProof(LOG, size1, size2);
      verifyConsistency(BigInt(size1), BigInt(size2), roots.get(size1)!, roots.get(size2)!, proof);
    }
  }
}

describe('the store tree', () => {
  it('signs a checkpoint of every committed entry after each group commit, with proofs that verify', async () => {
    const store = await open();
    const appender = await store.appender(LOG, signer);
    const rounds = [1, 2, 5, 120, 128, 256, 1, 187];
    let size = 0;
    for (const count of rounds) {
      const appended = await Promise.all(range(size, size + count).map((n) => appender.append(draft(n))));
      expect(appended.map((e) => e.index)).toEqual(range(size, size + count));
      size += count;
      const latest = await store.checkpoint(LOG);
      expect(latest?.size, 'the latest checkpoint covers every acknowledged entry').toBe(size);
      await expectCheckpointsMatchEntries(store, size);
      await expectStoredTiles(store, size);
    }
    expect(size).toBe(700);
    // Sizes on and around tile boundaries, the first entry alone, and the whole log.
    await expectProofsVerify(store, [1, 3, 8, 128, 256, 513, 700]);
  });

  it('signs far fewer checkpoints than entries when 500 appends arrive at once', async () => {
    const store = await open();
    const appender = await store.appender(LOG, signer);
    await Promise.all(range(0, 500).map((n) => appender.append(draft(n))));
    const checkpoints = await signedCheckpoints(store);
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(checkpoints.length).toBeLessThan(500 / 10);
    expect(appender.stats()).toMatchObject({ appended: 500, size: 500, failedFlushes: 0 });
    await expectCheckpointsMatchEntries(store, 500);
  });

  it('continues the same tree when the log is reopened', async () => {
    const first = await open();
    const writer = await first.appender(LOG, signer);
    await Promise.all(range(0, 300).map((n) => writer.append(draft(n))));
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open();
    const appender = await second.appender(LOG, signer);
    expect(appender.stats().size).toBe(300);
    await Promise.all(range(300, 333).map((n) => appender.append(draft(n))));
    await expectCheckpointsMatchEntries(second, 333);
    await expectProofsVerify(second, [300, 333]);
  });

  it('integrates a log written before the tree existed (schema version 1) when a writer opens it', async () => {
    const raw = rawConnection();
    await raw.batch(
      [
        `CREATE TABLE entries (
          log TEXT NOT NULL, idx INTEGER NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL,
          session TEXT, server TEXT, tool TEXT, call TEXT, body BLOB NOT NULL,
          PRIMARY KEY (log, idx)
        )`,
        'CREATE INDEX entries_by_session ON entries (log, session)',
        'CREATE INDEX entries_by_call ON entries (log, call)',
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        "INSERT INTO schema_migrations VALUES (1, 'entries', '2026-01-01T00:00:00.000Z')",
        ...range(0, 600).map((n) => {
          const entry: Entry = { ...draft(n), index: n };
          return {
            sql: 'INSERT INTO entries (log, idx, time, kind, session, server, tool, call, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            args: [LOG, n, entry.time, entry.kind, entry.session, entry.server ?? null, entry.tool ?? null, entry.call ?? null, canonicalBytes(entry)],
          };
        }),
      ],
      'write',
    );

    const store = await open();
    expect(await store.checkpoint(LOG)).toBeUndefined();
    const appender = await store.appender(LOG, signer);
    const tiles = await raw.execute({ sql: 'SELECT level, idx, length(hashes) AS bytes FROM tiles WHERE log = ? ORDER BY level, idx', args: [LOG] });
    expect(tiles.rows.map((r) => [r['level'], r['idx'], r['bytes']])).toEqual([
      [0, 0, 256 * 32],
      [0, 1, 256 * 32],
      [0, 2, 88 * 32],
      [1, 0, 2 * 32],
    ]);
    await expectCheckpointsMatchEntries(store, 600);
    await expectStoredTiles(store, 600);
    await expectProofsVerify(store, [600]);

    const next = await appender.append(draft(600));
    expect(next.index).toBe(600);
    await expectCheckpointsMatchEntries(store, 601);
    await expectProofsVerify(store, [600, 601]);
  });

  it('refuses to write to a log whose checkpoint covers entries that are no longer stored', async () => {
    const first = await open();
    const writer = await first.appender(LOG, signer);
    await Promise.all(range(0, 40).map((n) => writer.append(draft(n))));
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    await rawConnection().execute({ sql: 'DELETE FROM entries WHERE log = ? AND idx >= 37', args: [LOG] });

    const second = await open();
    await expect(second.appender(LOG, signer)).rejects.toThrow(
      `log "${LOG}" has a signed checkpoint for 40 entries but only 37 are stored; entries were removed`,
    );
    expect((await second.entries(LOG)).length).toBe(37);
  });

  it('refuses to write to a log with an entry removed from the middle', async () => {
    const first = await open();
    const writer = await first.appender(LOG, signer);
    await Promise.all(range(0, 40).map((n) => writer.append(draft(n))));
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    await rawConnection().execute({ sql: 'DELETE FROM entries WHERE log = ? AND idx = 12', args: [LOG] });

    const second = await open();
    await expect(second.appender(LOG, signer)).rejects.toThrow(
      `log "${LOG}" stores 39 entries with indexes up to 39; 1 entries were removed`,
    );
  });

  it('leaves the tree as it was when a commit fails, and goes on without a gap', async () => {
    const store = await open();
    const appender = await store.appender(LOG, signer);
    await Promise.all(range(0, 10).map((n) => appender.append(draft(n))));

    const saboteur = rawConnection();
    await saboteur.execute(
      "CREATE TRIGGER fail_checkpoints BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'disk full simulation'); END",
    );
    const failed = await Promise.allSettled(range(100, 105).map((n) => appender.append(draft(n))));
    for (const outcome of failed) {
      expect(outcome.status).toBe('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/^AuditLogWriteError: audit log write failed: .*disk full simulation/);
    }
    // Nothing of the failed batch is stored: no entry, no tile past it, no checkpoint.
    await expectCheckpointsMatchEntries(store, 10);
    await expectStoredTiles(store, 10);
    await saboteur.execute('DROP TRIGGER fail_checkpoints');

    const appended = await Promise.all(range(10, 20).map((n) => appender.append(draft(n))));
    expect(appended.map((e) => e.index)).toEqual(range(10, 20));
    expect(appender.stats()).toMatchObject({ failedFlushes: 1, size: 20 });
    await expectCheckpointsMatchEntries(store, 20);
    await expectStoredTiles(store, 20);
    await expectProofsVerify(store, [10, 20]);
  });
});

// leafHash from the project must agree with the reference's leaf, or the store checks above
// would compare two different trees.
it('hashes leaves as the reference does', () => {
  const body = canonicalBytes({ ...draft(0), index: 0 });
  expect(hex(leafHash(body))).toBe(hex(sha256(Uint8Array.of(0x00), body)));
});
