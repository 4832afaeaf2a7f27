import type { EntryDraft } from '../ledger/entry.js';

/** How long a commit may wait for the results of calls running upstream (see RunningCalls). */
export interface CommitLinger {
  /** The most a commit waits; 0: never. */
  readonly maxMs: number;
  /** Calls that started running longer ago are not waited for. */
  readonly recentMs: number;
}

/**
 * A fast tool answers within a millisecond or two; a call that has run for 10 ms is a slow tool, or
 * one held for approval, and not worth delaying anyone's commit for. A commit waits at most 3 ms:
 * about the time its transaction takes to write and fsync. At 64 calls in flight this took the
 * entries per commit from 7.9 to 9.5 and the gateway's CPU per call down 5% (BENCHMARKS.md).
 */
export const DEFAULT_COMMIT_LINGER: CommitLinger = { maxMs: 3, recentMs: 10 };

/**
 * The calls whose request is committed and whose result is not queued yet: each is running upstream
 * and will append again soon. Before an appender takes a batch it lingers for those that started
 * running recently, so that their results share its commit (one signature, one fsync'd transaction)
 * instead of each starting the next one; it stops as soon as they have all been queued. A lone
 * agent never waits: when its request is queued none of its calls runs, and its result ends the only
 * one. (PostgreSQL's commit_delay likewise waits only while commit_siblings transactions are open.)
 */
export class RunningCalls {
  readonly #linger: CommitLinger;
  /** When each call's latest entry before its result was committed. */
  readonly #runningSince = new Map<string, number>();
  #awaited: Set<string> | undefined;
  #stopLingering: (() => void) | undefined;

  constructor(linger: CommitLinger = DEFAULT_COMMIT_LINGER) {
    this.#linger = linger;
  }

  /** After a commit: the calls of its entries run now, except those whose result it held. */
  committed(entries: readonly EntryDraft[]): void {
    const now = performance.now();
    for (const entry of entries) if (entry.call !== undefined && entry.outcome === undefined) this.#runningSince.set(entry.call, now);
  }

  /** An entry joined the queue: a result ends its call. */
  queued(entry: EntryDraft): void {
    if (entry.call === undefined || entry.outcome === undefined) return;
    this.#runningSince.delete(entry.call);
    if (this.#awaited?.delete(entry.call) === true && this.#awaited.size === 0) this.#stopLingering?.();
  }

  /** Resolves once every call that started running recently has queued its result, or after the linger's most. */
  linger(): Promise<void> {
    if (this.#runningSince.size === 0) return Promise.resolve();
    const now = performance.now();
    const awaited = new Set<string>();
    for (const [call, since] of this.#runningSince) {
      // Forgotten rather than kept: a call whose result never comes (its write failed) must not pile up.
      if (now - since > this.#linger.recentMs) this.#runningSince.delete(call);
      else awaited.add(call);
    }
    if (awaited.size === 0 || this.#linger.maxMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = (): void => {
        clearTimeout(timer);
        this.#awaited = undefined;
        this.#stopLingering = undefined;
        resolve();
      };
      const timer = setTimeout(stop, this.#linger.maxMs);
      this.#awaited = awaited;
      this.#stopLingering = stop;
    });
  }
}
