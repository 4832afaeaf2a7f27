/** Reads an async stream of pages one item at a time, with a look at the next item. */
export class PagedCursor<T> {
  readonly #pages: AsyncIterator<readonly T[]>;
  #page: readonly T[] = [];
  #position = 0;
  #done = false;
  /**
   * The page being read, shared by every read that waits for it, so that a read started early
   * (see LogVerification) and a later one get the same page. When reading it failed, it stays
   * failed: every later read reports that failure.
   */
  #reading: Promise<void> | undefined;

  constructor(pages: AsyncIterable<readonly T[]>) {
    this.#pages = pages[Symbol.asyncIterator]();
  }

  /** The next item without taking it; undefined at the end. */
  async peek(): Promise<T | undefined> {
    while (this.#position >= this.#page.length) {
      if (this.#done) return undefined;
      await (this.#reading ??= this.#readPage());
    }
    return this.#page[this.#position];
  }

  async next(): Promise<T | undefined> {
    const item = await this.peek();
    if (item !== undefined) this.#position++;
    return item;
  }

  /** Up to `limit` items, fewer only at the end. */
  async take(limit: number): Promise<T[]> {
    const items: T[] = [];
    while (items.length < limit) {
      if ((await this.peek()) === undefined) break;
      const available = this.#page.slice(this.#position, this.#position + limit - items.length);
      this.#position += available.length;
      items.push(...available);
    }
    return items;
  }

  async #readPage(): Promise<void> {
    const next = await this.#pages.next();
    if (next.done === true) {
      this.#done = true;
    } else {
      this.#page = next.value;
      this.#position = 0;
    }
    this.#reading = undefined;
  }
}
