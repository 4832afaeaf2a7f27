import type { Client, InStatement } from '@libsql/client';
import { HASH_SIZE } from '../ledger/merkle-hash.js';
import { TileFrontier } from '../ledger/tile-frontier.js';
import type { Tile, TileCoordinates } from '../ledger/tiles.js';
import { blobBytes } from './blob-bytes.js';

/** Writes a tile, replacing the shorter version of it that an earlier commit wrote. */
export function writeTile(log: string, tile: Tile): InStatement {
  const hashes = new Uint8Array(tile.hashes.length * HASH_SIZE);
  tile.hashes.forEach((hash, i) => hashes.set(hash, i * HASH_SIZE));
  return {
    sql: `INSERT INTO tiles (log, level, idx, hashes) VALUES (?, ?, ?, ?)
          ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`,
    args: [log, tile.level, tile.index, hashes],
  };
}

/** Reads tiles by their coordinates; a tile that is not stored is missing from the map. */
export async function readTiles(
  client: Client,
  log: string,
  coordinates: readonly TileCoordinates[],
): Promise<Map<string, Uint8Array[]>> {
  const tiles = new Map<string, Uint8Array[]>();
  if (coordinates.length === 0) return tiles;
  const result = await client.execute({
    sql: `SELECT level, idx, hashes FROM tiles WHERE log = ? AND (${coordinates.map(() => '(level = ? AND idx = ?)').join(' OR ')})`,
    args: [log, ...coordinates.flatMap((c) => [c.level, c.index])],
  });
  for (const row of result.rows) {
    const level = Number(row['level']);
    const index = Number(row['idx']);
    tiles.set(tileKey({ level, index }), splitHashes(blobBytes(row['hashes'], `tile ${level}/${index} of log "${log}"`)));
  }
  return tiles;
}

/** A tiles row as stored. */
export interface StoredTile extends TileCoordinates {
  readonly hashes: Uint8Array;
}

/**
 * The log's tiles of one tile level in index order, a page at a time. A verifier walks one such
 * stream per level beside the entries, so its memory stays flat.
 */
export async function* readStoredTiles(client: Client, log: string, level: number, pageSize = 256): AsyncGenerator<StoredTile[]> {
  let after = -1;
  for (;;) {
    const result = await client.execute({
      sql: 'SELECT idx, hashes FROM tiles WHERE log = ? AND level = ? AND idx > ? ORDER BY idx LIMIT ?',
      args: [log, level, after, pageSize],
    });
    if (result.rows.length === 0) return;
    const page = result.rows.map((row): StoredTile => {
      const index = Number(row['idx']);
      return { level, index, hashes: blobBytes(row['hashes'], `tile ${level}/${index} of log "${log}"`) };
    });
    yield page;
    after = page[page.length - 1]!.index;
  }
}

/** The highest tile level stored for the log, or -1 when it has no tiles. */
export async function readTopTileLevel(client: Client, log: string): Promise<number> {
  const result = await client.execute({ sql: 'SELECT COALESCE(MAX(level), -1) AS level FROM tiles WHERE log = ?', args: [log] });
  return Number(result.rows[0]?.['level'] ?? -1);
}

export function tileKey(tile: TileCoordinates): string {
  return `${tile.level}/${tile.index}`;
}

/** The right edge of the tree at `size`, as its writer left it. */
export async function readFrontier(client: Client, log: string, size: number): Promise<TileFrontier> {
  const edge = TileFrontier.rightEdgeTiles(size);
  const tiles = await readTiles(client, log, edge);
  return TileFrontier.fromRightEdge(size, (level, index) => tiles.get(tileKey({ level, index })));
}

function splitHashes(bytes: Uint8Array): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let offset = 0; offset + HASH_SIZE <= bytes.length; offset += HASH_SIZE) {
    hashes.push(bytes.subarray(offset, offset + HASH_SIZE));
  }
  return hashes;
}
