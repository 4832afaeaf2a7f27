import { leafHashes } from './merkle-hash.js';

/** An entry as stored: its index and the signed body whose hash is its leaf. */
export interface EntryRecord {
  readonly index: number;
  readonly body: Uint8Array;
  /**
   * Set when retention removed the entry's payload: the leaf hash of the signed body, kept so that
   * the tree can still be recomputed. The body left behind is no longer what was signed.
   */
  readonly prunedLeaf?: Uint8Array | undefined;
}

/**
 * A stored entry's index and the leaf hash of its body. The body itself is let go once hashed: a
 * verifier holding a page of bodies while the next one is hashed would keep megabytes alive
 * across collections, which costs as much as the hashing.
 */
export interface HashedEntry {
  readonly index: number;
  readonly leaf: Uint8Array;
  /** The leaf is the stored hash of a pruned entry, not one computed from its body. */
  readonly pruned: boolean;
}

/**
 * The pages of `pages` with every entry's leaf hash, one page ahead: the next page is read and
 * handed to the hasher before this one is returned, so reading and hashing overlap wherever the
 * hasher runs off this thread.
 */
export async function* withLeafHashes(pages: AsyncIterable<readonly EntryRecord[]>): AsyncGenerator<HashedEntry[]> {
  let ahead: Promise<HashedEntry[]> | undefined;
  for await (const page of pages) {
    const hashing = hashPage(page);
    // Not awaited until the page before it is consumed; a failure is reported then.
    hashing.catch(() => undefined);
    if (ahead !== undefined) yield await ahead;
    ahead = hashing;
  }
  if (ahead !== undefined) yield await ahead;
}

async function hashPage(page: readonly EntryRecord[]): Promise<HashedEntry[]> {
  const whole = page.filter((entry) => entry.prunedLeaf === undefined);
  const leaves = await leafHashes(whole.map((entry) => entry.body));
  let next = 0;
  return page.map((entry) =>
    entry.prunedLeaf === undefined ? { index: entry.index, leaf: leaves[next++]!, pruned: false } : { index: entry.index, leaf: entry.prunedLeaf, pruned: true },
  );
}
