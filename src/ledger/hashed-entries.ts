import { leafHashes } from './merkle-hash.js';

/** An entry as stored: its index and the signed body whose hash is its leaf. */
export interface EntryRecord {
  readonly index: number;
  readonly body: Uint8Array;
}

/**
 * A stored entry's index and the leaf hash of its body. The body itself is let go once hashed: a
 * verifier holding a page of bodies while the next one is hashed would keep megabytes alive
 * across collections, which costs as much as the hashing.
 */
export interface HashedEntry {
  readonly index: number;
  readonly leaf: Uint8Array;
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
  const leaves = await leafHashes(page.map((entry) => entry.body));
  return page.map((entry, i) => ({ index: entry.index, leaf: leaves[i]! }));
}
