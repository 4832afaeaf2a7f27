/** What a budget says about one more call. */
export interface BudgetState {
  /** Calls counted in the window that ends now. */
  readonly used: number;
  /** The window's capacity. */
  readonly calls: number;
  /** When the budget is spent: how long until the oldest counted call leaves the window. */
  readonly retryAfterMs?: number;
}

/**
 * Rate-limit budgets kept in memory: for each key, the times of the calls counted in the last
 * `windowMs`. A sliding log is exact, so a limit of N per hour means at most N calls in any hour,
 * not N per clock hour with 2N across its boundary, at the price of one timestamp per counted call
 * (hence the schema's cap on `calls`). Budgets start empty when the gateway starts; a policy
 * reload keeps them for every limit whose key it keeps.
 */
export class CallBudgets {
  readonly #windows = new Map<string, SlidingWindow>();
  #chargesSinceSweep = 0;

  /** The state of a budget at `now` (ms since the epoch), without counting anything. */
  peek(key: string, calls: number, windowMs: number, now: number): BudgetState {
    const window = this.#windows.get(key);
    if (window === undefined) return { used: 0, calls };
    window.forget(now - windowMs);
    if (window.size < calls) return { used: window.size, calls };
    return { used: window.size, calls, retryAfterMs: Math.max(0, window.oldest + windowMs - now) };
  }

  /** Counts one call at `now`. */
  charge(key: string, calls: number, windowMs: number, now: number): void {
    let window = this.#windows.get(key);
    if (window === undefined) this.#windows.set(key, (window = new SlidingWindow(calls, windowMs)));
    window.forget(now - windowMs);
    window.add(now);
    if (++this.#chargesSinceSweep >= SWEEP_EVERY) this.sweep(now);
  }

  /** A budget whose calls have all left its window is as good as new: it takes no memory. */
  private sweep(now: number): void {
    this.#chargesSinceSweep = 0;
    for (const [key, window] of this.#windows) {
      if (window.newest <= now - window.windowMs) this.#windows.delete(key);
    }
  }
}

const SWEEP_EVERY = 4096;

/** The last `capacity` call times, oldest first, in a ring. */
class SlidingWindow {
  readonly #times: Float64Array;
  #start = 0;
  size = 0;

  constructor(
    capacity: number,
    readonly windowMs: number,
  ) {
    this.#times = new Float64Array(capacity);
  }

  get oldest(): number {
    return this.#times[this.#start] ?? 0;
  }

  get newest(): number {
    if (this.size === 0) return -Infinity;
    return this.#times[(this.#start + this.size - 1) % this.#times.length] ?? 0;
  }

  /** Drops the times at or before `cutoff`. */
  forget(cutoff: number): void {
    while (this.size > 0 && this.oldest <= cutoff) {
      this.#start = (this.#start + 1) % this.#times.length;
      this.size -= 1;
    }
  }

  /** Keeps `time`; when full, the oldest time makes room (the caller checked the budget first). */
  add(time: number): void {
    if (this.size === this.#times.length) {
      this.#start = (this.#start + 1) % this.#times.length;
      this.size -= 1;
    }
    this.#times[(this.#start + this.size) % this.#times.length] = time;
    this.size += 1;
  }
}
