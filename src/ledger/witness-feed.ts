import { verifyCosignatures } from './cosignature.js';
import type { WitnessVerifier } from './cosignature.js';
import { formatAddCheckpointRequest, parseCosignatureLines } from './witness-request.js';

/** A checkpoint as the log stored it. */
export interface SignedCheckpoint {
  readonly size: number;
  readonly note: string;
}

export interface WitnessFeedOptions {
  /** The witness's submission prefix; `/add-checkpoint` is appended. */
  readonly url: string;
  readonly witness: WitnessVerifier;
  /** The consistency proof between two sizes of the log. */
  readonly proveConsistency: (size1: number, size2: number) => Promise<Uint8Array[]>;
  /** Stores the witness's cosignature lines for the checkpoint of `size`. */
  readonly storeCosignature: (size: number, lines: readonly string[]) => Promise<void>;
  /** Told about each failed attempt; the feed keeps the checkpoint and tries again later. */
  readonly onError: (message: string) => void;
  readonly fetch?: typeof fetch;
  /** First retry delay after a failure; doubles up to a minute. Default 1000. */
  readonly retryMs?: number;
}

const MAX_RETRY_MS = 60_000;

/**
 * Sends a log's checkpoints to one witness (c2sp.org/tlog-witness) and keeps its cosignatures.
 * One request at a time, always the newest checkpoint: under load the witness sees every few
 * checkpoints rather than each one, which the protocol allows since each request carries a
 * consistency proof from the last size it cosigned. Never blocks or fails the log's writes.
 */
export class WitnessFeed {
  readonly #options: WitnessFeedOptions;
  readonly #fetch: typeof fetch;
  #latest: SignedCheckpoint | null = null;
  /** The size the witness last cosigned, as far as we know; learnt from a 409 when unknown. */
  #witnessSize = 0;
  #running: Promise<void> | null = null;
  #retryMs: number;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(options: WitnessFeedOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#retryMs = options.retryMs ?? 1000;
  }

  /** Queues a new checkpoint (replacing an older one not yet sent). */
  offer(checkpoint: SignedCheckpoint): void {
    if (this.#closed || (this.#latest !== null && this.#latest.size >= checkpoint.size)) return;
    this.#latest = checkpoint;
    this.#running ??= this.#run().finally(() => (this.#running = null));
  }

  /** Stops retrying; waits for a request in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed && this.#latest !== null && this.#latest.size > this.#witnessSize) {
      const checkpoint = this.#latest;
      try {
        await this.#submit(checkpoint);
        failures = 0;
      } catch (error) {
        failures++;
        this.#options.onError(`witness ${this.#options.witness.name} (${this.#options.url}): ${error instanceof Error ? error.message : String(error)}`);
        await this.#sleep(Math.min(MAX_RETRY_MS, this.#retryMs * 2 ** (failures - 1)));
      }
    }
  }

  async #submit(checkpoint: SignedCheckpoint): Promise<void> {
    const oldSize = this.#witnessSize;
    const proof = oldSize === 0 ? [] : await this.#options.proveConsistency(oldSize, checkpoint.size);
    const response = await this.#fetch(new URL('add-checkpoint', withSlash(this.#options.url)), {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize, proof, checkpoint: checkpoint.note }),
    });
    const body = await response.text();
    if (response.status === 409 && response.headers.get('content-type')?.startsWith('text/x.tlog.size') === true) {
      const size = Number(body.trim());
      if (!Number.isSafeInteger(size) || size < 0 || size === oldSize) throw new Error(`409 Conflict with an unusable size ${JSON.stringify(body.slice(0, 40))}`);
      if (size > checkpoint.size) throw new Error(`the witness has cosigned ${size} entries, more than this log's ${checkpoint.size}: the log was rolled back or forked`);
      this.#witnessSize = size;
      return;
    }
    if (response.status !== 200) throw new Error(`${response.status} ${response.statusText}: ${body.slice(0, 200).trim()}`);
    const lines = parseCosignatureLines(body);
    const verified = verifyCosignatures(checkpoint.note + lines.join(''), [this.#options.witness]);
    if (verified.length === 0) throw new Error('the witness answered without a cosignature by its key');
    const own = lines.filter((line) => line.startsWith(`\u2014 ${this.#options.witness.name} `));
    await this.#options.storeCosignature(checkpoint.size, own);
    this.#witnessSize = checkpoint.size;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
