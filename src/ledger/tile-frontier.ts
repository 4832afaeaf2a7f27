import { EMPTY_TREE_ROOT, nodeHash } from './merkle-hash.js';
import { TILE_HEIGHT, TILE_WIDTH, nodesAtTileLevel } from './tiles.js';
import type { Tile } from './tiles.js';

/** A perfect subtree on the right edge: its height in the tree and its hash. */
interface EdgeSubtree {
  readonly height: number;
  readonly hash: Uint8Array;
}

/** The right-most, not yet full tile of one tile level, with the perfect subtrees it makes up. */
interface PartialTile {
  readonly index: number;
  readonly hashes: Uint8Array[];
  /** Like a binary counter: merged whenever two neighbours have the same height. */
  readonly edge: EdgeSubtree[];
}

/**
 * The right edge of the tree: what an appender needs in memory to add leaves, compute the root and
 * know which tiles to write, without reading the rest of the tree. Appending returns a new
 * frontier, so a batch that fails to commit leaves the old one untouched.
 */
export class TileFrontier {
  readonly size: number;
  readonly #levels: readonly PartialTile[];

  private constructor(size: number, levels: readonly PartialTile[]) {
    this.size = size;
    this.#levels = levels;
  }

  static empty(): TileFrontier {
    return new TileFrontier(0, []);
  }

  /**
   * Rebuilds the frontier of a tree of `size` leaves from the tiles listed by rightEdgeTiles(size);
   * stored hashes past `size` are ignored.
   */
  static fromRightEdge(size: number, readTile: (level: number, index: number) => readonly Uint8Array[] | undefined): TileFrontier {
    const levels: PartialTile[] = [];
    for (let level = 0; nodesAtTileLevel(size, level) > 0; level++) {
      const nodes = nodesAtTileLevel(size, level);
      const index = Math.floor(nodes / TILE_WIDTH);
      const width = nodes % TILE_WIDTH;
      const partial: PartialTile = { index, hashes: [], edge: [] };
      const stored = width === 0 ? [] : (readTile(level, index) ?? []);
      if (stored.length < width) {
        throw new Error(
          `tile ${level}/${index} has ${stored.length} hashes, but a tree of ${size} leaves needs ${width}`,
        );
      }
      for (const hash of stored.slice(0, width)) pushHash(partial, hash, level);
      levels.push(partial);
    }
    return new TileFrontier(size, levels);
  }

  /** The tiles of the tree at `size` that a reader must be able to load to rebuild the frontier. */
  static rightEdgeTiles(size: number): { level: number; index: number; width: number }[] {
    const tiles: { level: number; index: number; width: number }[] = [];
    for (let level = 0; nodesAtTileLevel(size, level) > 0; level++) {
      const nodes = nodesAtTileLevel(size, level);
      if (nodes % TILE_WIDTH > 0) tiles.push({ level, index: Math.floor(nodes / TILE_WIDTH), width: nodes % TILE_WIDTH });
    }
    return tiles;
  }

  /** Adds leaves; returns the new frontier and every tile that changed (full or partial). */
  append(leafHashes: readonly Uint8Array[]): { frontier: TileFrontier; changed: Tile[] } {
    const levels = this.#levels.map((l) => ({ index: l.index, hashes: [...l.hashes], edge: [...l.edge] }));
    // The tiles in the order they first change, each once; noted per leaf by a look at the last one
    // noted on its level, as a verifier appends a whole log through here.
    const changed: { level: number; tile: PartialTile }[] = [];
    const lastNoted: PartialTile[] = [];
    const add = (level: number, hash: Uint8Array): void => {
      const partial = (levels[level] ??= { index: 0, hashes: [], edge: [] });
      pushHash(partial, hash, level);
      if (lastNoted[level] !== partial) {
        lastNoted[level] = partial;
        changed.push({ level, tile: partial });
      }
      if (partial.hashes.length === TILE_WIDTH) {
        const full = partial.edge[0]!.hash;
        levels[level] = { index: partial.index + 1, hashes: [], edge: [] };
        add(level + 1, full);
      }
    };
    for (const hash of leafHashes) add(0, hash);
    const frontier = new TileFrontier(this.size + leafHashes.length, levels);
    return { frontier, changed: changed.map(({ level, tile }) => ({ level, index: tile.index, hashes: [...tile.hashes] })) };
  }

  /** The partial right-most tile of each tile level that has one, as a writer stores them. */
  rightEdge(): Tile[] {
    return this.#levels.flatMap((partial, level) =>
      partial.hashes.length === 0 ? [] : [{ level, index: partial.index, hashes: [...partial.hashes] }],
    );
  }

  /** The RFC 6962 root hash of the tree. */
  root(): Uint8Array {
    // Left to right, the right edge is the top level's subtrees first.
    const subtrees: EdgeSubtree[] = [];
    for (let level = this.#levels.length - 1; level >= 0; level--) subtrees.push(...this.#levels[level]!.edge);
    let root = subtrees.pop()?.hash;
    if (root === undefined) return EMPTY_TREE_ROOT;
    while (subtrees.length > 0) root = nodeHash(subtrees.pop()!.hash, root);
    return root;
  }
}

function pushHash(partial: PartialTile, hash: Uint8Array, level: number): void {
  partial.hashes.push(hash);
  let subtree: EdgeSubtree = { height: level * TILE_HEIGHT, hash };
  while (partial.edge.length > 0 && partial.edge[partial.edge.length - 1]!.height === subtree.height) {
    const left = partial.edge.pop()!;
    subtree = { height: subtree.height + 1, hash: nodeHash(left.hash, subtree.hash) };
  }
  partial.edge.push(subtree);
}
