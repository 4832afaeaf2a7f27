import { Worker } from 'node:worker_threads';

// Fewer messages than this are hashed in place: a round trip to the thread costs more.
const SMALLEST_BATCH = 64;

// The thread's whole program. It is evaluated, not loaded from a file, so that it runs the same
// from dist/ and under the test runner (which loads src/*.ts and has no .js file to point at).
// Each request is the messages laid end to end in one buffer; `ends` marks where each one ends.
// The prefix is put before each message here, in a buffer kept for it, so that the thread that
// asks does one copy of a page read in one piece, not two per message. Each digest comes as latin1
// text, one character per byte (see sha256Digest in node-primitives.ts), and the hashes go back as
// one buffer of 32-byte digests.
const THREAD_PROGRAM = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
let joined = new Uint8Array(4096);
parentPort.on('message', ({ id, prefix, packed, ends }) => {
  const bytes = new Uint8Array(packed);
  const digests = new Uint8Array(ends.length * 32);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const length = prefix.length + ends[i] - start;
    if (length > joined.length) joined = new Uint8Array(Math.max(length, joined.length * 2));
    joined.set(prefix, 0);
    joined.set(bytes.subarray(start, ends[i]), prefix.length);
    const digest = hash('sha256', joined.subarray(0, length), 'binary');
    for (let k = 0; k < 32; k++) digests[i * 32 + k] = digest.charCodeAt(k);
    start = ends[i];
  }
  parentPort.postMessage({ id, digests: digests.buffer }, [digests.buffer]);
});
`;

interface PendingBatch {
  readonly resolve: (digests: Uint8Array[]) => void;
  readonly reject: (error: Error) => void;
  readonly count: number;
}

/**
 * SHA-256 of `prefix || message` for many messages on a thread of its own, so that the thread
 * reading the messages (a verifier paging through a log) goes on while they are hashed. The thread
 * starts on first use and never keeps the process alive while it has nothing to do.
 */
export class Sha256Thread {
  /** SHA-256 of the concatenated chunks on this thread, for batches too small to send. */
  readonly #sha256: (...chunks: Uint8Array[]) => Uint8Array;

  #worker: Worker | undefined;
  readonly #pending = new Map<number, PendingBatch>();
  #nextId = 0;

  constructor(sha256: (...chunks: Uint8Array[]) => Uint8Array) {
    this.#sha256 = sha256;
  }

  hashEach(prefix: Uint8Array, messages: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (messages.length < SMALLEST_BATCH) {
      return Promise.resolve(messages.map((message) => this.#sha256(prefix, message)));
    }
    const ends = new Float64Array(messages.length);
    let length = 0;
    for (let i = 0; i < messages.length; i++) ends[i] = length += messages[i]!.length;
    // Not zeroed first: every byte is written below.
    const packed = Buffer.allocUnsafeSlow(length);
    // Messages that lie end to end in one buffer (a page of entries read in one piece) are copied in one piece.
    let offset = 0;
    for (let first = 0; first < messages.length; ) {
      const run = messages[first]!;
      let runLength = run.length;
      let last = first + 1;
      while (last < messages.length && followsInMemory(messages[last]!, run, runLength)) runLength += messages[last++]!.length;
      packed.set(new Uint8Array(run.buffer, run.byteOffset, runLength), offset);
      offset += runLength;
      first = last;
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, count: messages.length });
      const worker = this.#started();
      worker.ref();
      worker.postMessage({ id, prefix: prefix.slice(), packed: packed.buffer, ends }, [packed.buffer, ends.buffer]);
    });
  }

  #started(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(THREAD_PROGRAM, { eval: true });
    worker.on('message', ({ id, digests }: { id: number; digests: ArrayBuffer }) => {
      const batch = this.#pending.get(id);
      if (batch === undefined) return;
      this.#pending.delete(id);
      if (this.#pending.size === 0) worker.unref();
      const bytes = new Uint8Array(digests);
      batch.resolve(Array.from({ length: batch.count }, (_, i) => bytes.subarray(i * 32, (i + 1) * 32)));
    });
    const fail = (error: Error): void => {
      this.#worker = undefined;
      for (const batch of this.#pending.values()) batch.reject(error);
      this.#pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`the SHA-256 thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => fail(new Error(`the SHA-256 thread exited (code ${code})`)));
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

/** Whether `message` starts where the `length` bytes from the start of `run` end, in the same buffer. */
function followsInMemory(message: Uint8Array, run: Uint8Array, length: number): boolean {
  return message.buffer === run.buffer && message.byteOffset === run.byteOffset + length;
}
