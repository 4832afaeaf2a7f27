import { nodeHash } from './merkle-hash.js';
import type { PerfectSubtree } from './leaf-ranges.js';

/**
 * The tree's hashes are stored in tiles, as transparency-dev/tessera does: a tile at tile level L
 * holds up to 256 consecutive node hashes of tree height 8·L. Everything else in the tree is
 * recomputed from them, so storage is about one hash per entry and any proof needs one tile per
 * tile level.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

/** A tile's place in the tree. */
export interface TileCoordinates {
  readonly level: number;
  readonly index: number;
}

/** A tile and its hashes, left to right; a partial tile (the tree's right edge) has fewer than 256. */
export interface Tile extends TileCoordinates {
  readonly hashes: readonly Uint8Array[];
}

/** Where a perfect subtree's hash is computed from: a run of hashes inside one tile. */
export interface TileSpan extends TileCoordinates {
  /** The first hash of the run within the tile. */
  readonly offset: number;
  /** How many hashes: a power of two, at most TILE_WIDTH. */
  readonly count: number;
}

/** The tile hashes that a perfect subtree of any height is built from. */
export function tileSpanOf(subtree: PerfectSubtree): TileSpan {
  const level = Math.floor(subtree.level / TILE_HEIGHT);
  const count = 2 ** (subtree.level - level * TILE_HEIGHT);
  const first = subtree.index * count;
  return { level, index: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count };
}

/** The number of node hashes of tree height 8·level in a tree of `size` leaves. */
export function nodesAtTileLevel(size: number, level: number): number {
  return Math.floor(size / 2 ** (level * TILE_HEIGHT));
}

/** The root of a perfect subtree given its bottom hashes (a power of two of them). */
export function hashPerfectRun(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0) {
    throw new RangeError(`a perfect subtree needs a power of two of hashes, got ${hashes.length}`);
  }
  let row = hashes;
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}
