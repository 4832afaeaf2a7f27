import { encodeBase64 } from './base64.js';
import { parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { leafHash } from './merkle-hash.js';
import { parseVerifierKey } from './note-keys.js';
import type { NoteVerifier } from './note-keys.js';
import { PagedCursor } from './paged-cursor.js';
import { describeKey, parseSignedNote, verifyNote } from './signed-note.js';
import { TileFrontier } from './tile-frontier.js';
import { TILE_WIDTH } from './tiles.js';
import type { Tile } from './tiles.js';

/** An entry as stored: its index and the signed body whose hash is its leaf. */
export interface EntryRecord {
  readonly index: number;
  readonly body: Uint8Array;
}

/** A query column (kept beside the body) whose value is not the signed body's. */
export interface ColumnMismatchRecord {
  readonly index: number;
  /** `body` when the body is not JSON at all. */
  readonly column: string;
  readonly stored: unknown;
  readonly signed: unknown;
}

export interface CheckpointRecord {
  readonly size: number;
  readonly root: Uint8Array;
  readonly key: string;
  readonly note: string;
}

export interface TileRecord {
  readonly level: number;
  readonly index: number;
  readonly hashes: Uint8Array;
}

/** Everything stored for one log, read in order a page at a time (see src/store). */
export interface LogRecords {
  entryRows(log: string): AsyncIterable<readonly EntryRecord[]>;
  /** The stored entries whose `kind` column is `kind`. */
  entriesOfKind(log: string, kind: string): Promise<readonly EntryRecord[]>;
  /** The first entry whose query columns (index, time, kind, ...) differ from its body. */
  findColumnMismatch(log: string): Promise<ColumnMismatchRecord | undefined>;
  checkpointRows(log: string): AsyncIterable<readonly CheckpointRecord[]>;
  tileRows(log: string, level: number): AsyncIterable<readonly TileRecord[]>;
  topTileLevel(log: string): Promise<number>;
}

export interface LogVerificationOptions {
  /** Keys the verifier trusts. Empty: trust the key stored with the first checkpoint (and say so). */
  readonly keys: readonly NoteVerifier[];
  /** A checkpoint the verifier already trusts (signed note): the log must extend it. */
  readonly trustedCheckpoint?: string | undefined;
  /** Called after each page of entries with the number verified so far. */
  readonly onProgress?: ((entries: number) => void) | undefined;
}

export interface LogSummary {
  readonly log: string;
  readonly entries: number;
  readonly checkpoints: number;
  readonly firstTime: string | null;
  readonly lastTime: string | null;
  /** The verifier keys that signed the log's checkpoints, in the order they took over. */
  readonly keys: readonly string[];
  readonly latest: { readonly size: number; readonly root: string } | null;
  /** Set when no key was given and the first checkpoint's stored key was trusted. */
  readonly trustedOnFirstUse: string | null;
}

/** The first thing found wrong; `subject` names the entry, checkpoint or tile. */
export class LogVerificationError extends Error {
  readonly log: string;
  readonly subject: string;
  readonly reason: string;

  constructor(log: string, subject: string, reason: string) {
    super(`log "${log}": ${subject}: ${reason}`);
    this.name = 'LogVerificationError';
    this.log = log;
    this.subject = subject;
    this.reason = reason;
  }
}

const ENTRIES_PER_STEP = 5000;
const KEY_ROTATED = 'key.rotated';

/**
 * Recomputes a log from its stored rows: every leaf from its body, the tree, every checkpoint's
 * signature and root, and the stored tiles. Memory stays flat in the log's size. Throws a
 * LogVerificationError naming the first bad entry, checkpoint or tile.
 */
export async function verifyLog(records: LogRecords, log: string, options: LogVerificationOptions): Promise<LogSummary> {
  return new LogVerification(records, log, options).run();
}

class LogVerification {
  readonly #records: LogRecords;
  readonly #log: string;
  readonly #options: LogVerificationOptions;
  readonly #entries: PagedCursor<EntryRecord>;
  readonly #tiles = new Map<number, PagedCursor<TileRecord>>();
  #tree = TileFrontier.empty();
  #trusted: NoteVerifier[];
  readonly #retired = new Map<string, number>();
  readonly #pendingRotations: { index: number; from: string; to: NoteVerifier }[] = [];
  readonly #signers: string[] = [];
  #trustedOnFirstUse: string | null = null;
  #checkpoints = 0;
  #latest: Checkpoint | null = null;
  #firstTime: string | null = null;
  #lastRow: EntryRecord | null = null;

  constructor(records: LogRecords, log: string, options: LogVerificationOptions) {
    this.#records = records;
    this.#log = log;
    this.#options = options;
    this.#entries = new PagedCursor(records.entryRows(log));
    this.#trusted = [...options.keys];
  }

  async run(): Promise<LogSummary> {
    // Once the columns match the bodies, the `kind` column finds every rotation without parsing
    // every body; each body is still hashed below, so a forged one fails at its checkpoint.
    await this.#checkColumns();
    for (const rotation of await this.#records.entriesOfKind(this.#log, KEY_ROTATED)) this.#noteRotation(rotation);
    const trusted = this.#options.trustedCheckpoint;
    const trustedSize = trusted === undefined ? 0 : this.#trustedCheckpointSize(trusted);
    let trustedChecked = trusted === undefined;
    for await (const page of this.#records.checkpointRows(this.#log)) {
      for (const row of page) {
        if (!trustedChecked && trusted !== undefined && trustedSize <= row.size) {
          await this.#advanceTo(trustedSize, `the trusted checkpoint at ${trustedSize}`);
          if (this.#trusted.length === 0) this.#trustFirstKey(row);
          this.#checkTrustedCheckpoint(trusted);
          trustedChecked = true;
        }
        await this.#advanceTo(row.size, `checkpoint ${row.size}`);
        this.#checkCheckpoint(row);
      }
    }
    const uncovered = await this.#entries.peek();
    if (uncovered !== undefined) {
      throw this.#failure(
        `entry ${uncovered.index}`,
        this.#checkpoints === 0
          ? 'is not covered by any signed checkpoint (the log has none)'
          : `is not covered by any signed checkpoint (the latest covers ${this.#tree.size} entries): ` +
              'it was added after the last checkpoint was signed',
      );
    }
    if (!trustedChecked) {
      throw this.#failure(
        'the log',
        `holds ${this.#tree.size} entries, but the trusted checkpoint covers ${trustedSize}: ` +
          'the database was rolled back or its tail removed',
      );
    }
    await this.#checkRemainingTiles();
    return {
      log: this.#log,
      entries: this.#tree.size,
      checkpoints: this.#checkpoints,
      firstTime: this.#firstTime,
      lastTime: this.#lastRow === null ? null : timeOf(this.#lastRow.body),
      keys: this.#signers,
      latest: this.#latest === null ? null : { size: this.#latest.size, root: encodeBase64(this.#latest.root) },
      trustedOnFirstUse: this.#trustedOnFirstUse,
    };
  }

  /** Integrates stored entries until the tree has `size` leaves. */
  async #advanceTo(size: number, needer: string): Promise<void> {
    if (size < this.#tree.size) {
      throw this.#failure(needer, `is smaller than an earlier checkpoint (${this.#tree.size} entries)`);
    }
    while (this.#tree.size < size) {
      const rows = await this.#entries.take(Math.min(size - this.#tree.size, ENTRIES_PER_STEP));
      if (rows.length === 0) {
        throw this.#failure(
          needer,
          `covers ${size} entries but only ${this.#tree.size} are stored: entries at the end of the log were removed`,
        );
      }
      const leaves = rows.map((row, i) => this.#checkEntry(row, this.#tree.size + i));
      const { frontier, changed } = this.#tree.append(leaves);
      this.#tree = frontier;
      for (const tile of changed) {
        if (tile.hashes.length === TILE_WIDTH) await this.#checkTile(tile);
      }
      this.#options.onProgress?.(this.#tree.size);
    }
  }

  async #checkColumns(): Promise<void> {
    const mismatch = await this.#records.findColumnMismatch(this.#log);
    if (mismatch === undefined) return;
    throw this.#failure(
      `entry ${mismatch.index}`,
      mismatch.column === 'body'
        ? 'its stored body is not JSON'
        : `column ${mismatch.column} is ${JSON.stringify(mismatch.stored)} but the signed entry says ${JSON.stringify(mismatch.signed)}` +
            (mismatch.column === 'idx' ? ': entries were moved, copied or renumbered' : ''),
    );
  }

  /** Checks the row is the next one; returns its leaf hash. */
  #checkEntry(row: EntryRecord, expected: number): Uint8Array {
    if (row.index !== expected) {
      throw this.#failure(`entry ${expected}`, `is missing (the next stored entry is ${row.index})`);
    }
    if (expected === 0) this.#firstTime = timeOf(row.body);
    this.#lastRow = row;
    return leafHash(row.body);
  }

  /** A key rotation takes effect once a checkpoint by the old key covers it. */
  #noteRotation(entry: EntryRecord): void {
    const subject = `entry ${entry.index}`;
    let payload: { previous?: unknown; next?: unknown } = {};
    try {
      payload = (JSON.parse(new TextDecoder().decode(entry.body)) as { payload?: typeof payload }).payload ?? {};
    } catch {
      // Reported just below as a rotation without keys.
    }
    const { previous, next } = payload;
    if (typeof previous !== 'string' || typeof next !== 'string') {
      throw this.#failure(subject, 'is a key.rotated entry without previous and next verifier keys');
    }
    try {
      this.#pendingRotations.push({ index: entry.index, from: previous, to: parseVerifierKey(next) });
    } catch (error) {
      throw this.#failure(subject, `names an unusable new key: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #checkCheckpoint(row: CheckpointRecord): void {
    const subject = `checkpoint ${row.size}`;
    if (this.#trusted.length === 0) this.#trustFirstKey(row);
    const { signers, checkpoint } = this.#open(subject, row.note);
    if (checkpoint.size !== row.size) {
      throw this.#failure(subject, `column size is ${row.size} but the signed checkpoint says ${checkpoint.size}`);
    }
    if (!equalBytes(checkpoint.root, row.root)) {
      throw this.#failure(subject, 'column root differs from the signed checkpoint');
    }
    if (!signers.some((signer) => signer.verifierKey === row.key)) {
      throw this.#failure(subject, `column key names ${row.key}, which did not sign it`);
    }
    this.#checkRoot(subject, checkpoint);
    this.#checkpoints++;
    this.#latest = checkpoint;
    for (const signer of signers) {
      if (!this.#signers.includes(signer.verifierKey)) this.#signers.push(signer.verifierKey);
    }
    this.#applyRotations(row.size, signers);
  }

  /** Checked with the keys in force at its size, so one from before a key rotation still counts. */
  #checkTrustedCheckpoint(note: string): void {
    this.#checkRoot('the trusted checkpoint', this.#open('the trusted checkpoint', note).checkpoint);
  }

  /** The signed root must be the root of the stored entries at that size. */
  #checkRoot(subject: string, checkpoint: Checkpoint): void {
    if (checkpoint.origin !== this.#log) {
      throw this.#failure(subject, `is for log "${checkpoint.origin}", not this one`);
    }
    if (!equalBytes(checkpoint.root, this.#tree.root())) {
      throw this.#failure(
        subject,
        `its signed root ${encodeBase64(checkpoint.root)} is not the root of the stored entries ` +
          `(${encodeBase64(this.#tree.root())}): entries were changed, or the checkpoint belongs to another history (split view)`,
      );
    }
  }

  /** Verifies a signed checkpoint with the trusted keys and parses it. */
  #open(subject: string, note: string): { signers: NoteVerifier[]; checkpoint: Checkpoint } {
    let opened: { text: string; verifiedBy: NoteVerifier[] };
    try {
      opened = verifyNote(note, this.#trusted);
    } catch (error) {
      throw this.#failure(subject, `${error instanceof Error ? error.message : String(error)}${this.#retiredHint(note)}`);
    }
    try {
      return { signers: opened.verifiedBy, checkpoint: parseCheckpoint(opened.text) };
    } catch (error) {
      throw this.#failure(subject, error instanceof Error ? error.message : String(error));
    }
  }

  #retiredHint(note: string): string {
    let signedBy: string[];
    try {
      signedBy = parseSignedNote(note).signatures.map(describeKey);
    } catch {
      return '';
    }
    for (const [key, index] of this.#retired) {
      if (signedBy.some((signer) => key.startsWith(`${signer}+`))) {
        return ` (${key} was retired by the key rotation in entry ${index})`;
      }
    }
    return '';
  }

  #trustFirstKey(row: CheckpointRecord): void {
    try {
      this.#trusted = [parseVerifierKey(row.key)];
    } catch (error) {
      throw this.#failure(`checkpoint ${row.size}`, `column key is not a verifier key: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#trustedOnFirstUse = row.key;
  }

  #applyRotations(size: number, signers: readonly NoteVerifier[]): void {
    for (let i = 0; i < this.#pendingRotations.length; ) {
      const rotation = this.#pendingRotations[i]!;
      if (rotation.index < size && signers.some((s) => s.verifierKey === rotation.from)) {
        this.#trusted = [...this.#trusted.filter((k) => k.verifierKey !== rotation.from), rotation.to];
        this.#retired.set(rotation.from, rotation.index);
        this.#pendingRotations.splice(i, 1);
      } else {
        i++;
      }
    }
  }

  /** Its size, read before its signature can be checked (see #checkTrustedCheckpoint). */
  #trustedCheckpointSize(note: string): number {
    try {
      return parseCheckpoint(parseSignedNote(note).text).size;
    } catch (error) {
      throw this.#failure('the trusted checkpoint', error instanceof Error ? error.message : String(error));
    }
  }

  async #checkTile(expected: Tile): Promise<void> {
    const subject = `tile ${expected.level}/${expected.index}`;
    const stored = await this.#tileCursor(expected.level).next();
    if (stored === undefined || stored.index !== expected.index) {
      throw this.#failure(subject, stored === undefined ? 'is missing' : `is missing (the next stored is ${stored.level}/${stored.index})`);
    }
    if (!equalBytes(stored.hashes, concatenate(expected.hashes))) {
      throw this.#failure(subject, 'its stored hashes differ from the hashes of the stored entries');
    }
  }

  /** The right edge's partial tiles must be stored exactly, and no tile beyond them. */
  async #checkRemainingTiles(): Promise<void> {
    for (const tile of this.#tree.rightEdge()) await this.#checkTile(tile);
    const top = await this.#records.topTileLevel(this.#log);
    for (let level = 0; level <= top; level++) {
      const extra = await this.#tileCursor(level).next();
      if (extra !== undefined) {
        throw this.#failure(`tile ${extra.level}/${extra.index}`, `is stored but a log of ${this.#tree.size} entries has no such tile`);
      }
    }
  }

  #tileCursor(level: number): PagedCursor<TileRecord> {
    let cursor = this.#tiles.get(level);
    if (cursor === undefined) {
      cursor = new PagedCursor(this.#records.tileRows(this.#log, level));
      this.#tiles.set(level, cursor);
    }
    return cursor;
  }

  #failure(subject: string, reason: string): LogVerificationError {
    return new LogVerificationError(this.#log, subject, reason);
  }
}

/** The `time` of an entry body that has passed the column check (so it is a JSON object). */
function timeOf(body: Uint8Array): string | null {
  const time: unknown = (JSON.parse(new TextDecoder().decode(body)) as { time?: unknown }).time;
  return typeof time === 'string' ? time : null;
}

function concatenate(hashes: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(hashes.reduce((n, h) => n + h.length, 0));
  let offset = 0;
  for (const hash of hashes) {
    bytes.set(hash, offset);
    offset += hash.length;
  }
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
