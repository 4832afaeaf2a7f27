import { encodeBase64 } from './base64.js';
import { verifyCosignatures } from './cosignature.js';
import type { WitnessVerifier } from './cosignature.js';
import { parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { withLeafHashes } from './hashed-entries.js';
import type { EntryRecord, HashedEntry } from './hashed-entries.js';
import { HASH_SIZE } from './merkle-hash.js';
import { parseVerifierKey } from './note-keys.js';
import type { NoteVerifier } from './note-keys.js';
import { PagedCursor } from './paged-cursor.js';
import { describeKey, parseSignedNote, verifyNote } from './signed-note.js';
import { TileFrontier } from './tile-frontier.js';
import { TILE_WIDTH } from './tiles.js';
import type { Tile } from './tiles.js';

export type { EntryRecord } from './hashed-entries.js';

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
  /** Witnesses' cosignature lines (c2sp.org/tlog-cosignature) kept beside the note. */
  readonly cosignatures: string;
}

export interface TileRecord {
  readonly level: number;
  readonly index: number;
  readonly hashes: Uint8Array;
}

/** Everything stored for one log, read in order a page at a time (see src/store). */
export interface LogRecords {
  entryRows(log: string): AsyncIterable<readonly EntryRecord[]>;
  /** The `time` column of entry `index`; null when there is no such entry. */
  entryTime(log: string, index: number): Promise<string | null>;
  /** The stored entries whose `kind` column is one of `kinds`, in index order, each with its kind. */
  entriesOfKinds(log: string, kinds: readonly string[]): Promise<readonly (EntryRecord & { readonly kind: string })[]>;
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
  /** Witnesses whose cosignatures must be valid; each must have cosigned a checkpoint. */
  readonly witnesses?: readonly WitnessVerifier[] | undefined;
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
  /** Per witness asked for: the size of the latest checkpoint it cosigned. */
  readonly witnesses: readonly { readonly key: string; readonly latestCosignedSize: number }[];
  /**
   * Entries whose payloads retention removed: their stored leaf hashes stood in for their bodies.
   * Null when none was pruned.
   */
  readonly pruned: { readonly entries: number; readonly before: number } | null;
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
const RETENTION_PRUNED = 'retention.pruned';

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
  readonly #entries: PagedCursor<HashedEntry>;
  readonly #tiles = new Map<number, PagedCursor<TileRecord>>();
  #tree = TileFrontier.empty();
  #trusted: NoteVerifier[];
  readonly #retired = new Map<string, number>();
  readonly #pendingRotations: { index: number; from: string; to: NoteVerifier }[] = [];
  readonly #signers: string[] = [];
  #trustedOnFirstUse: string | null = null;
  /** The first stored tile found to differ from the entries, and the first entry it implicates. */
  #tileMismatch: TileMismatch | null = null;
  #changedLeaf: ChangedLeaf | null = null;
  readonly #cosigned = new Map<WitnessVerifier, number>();
  #checkpoints = 0;
  #latest: Checkpoint | null = null;
  /** Retention may have pruned the entries below this index (the log's retention.pruned entries say so). */
  #prunedBefore = 0;
  #pruned = 0;

  constructor(records: LogRecords, log: string, options: LogVerificationOptions) {
    this.#records = records;
    this.#log = log;
    this.#options = options;
    this.#entries = new PagedCursor(withLeafHashes(records.entryRows(log)));
    this.#trusted = [...options.keys];
  }

  async run(): Promise<LogSummary> {
    // The database compares the query columns with the bodies while the entries are hashed here;
    // a column found changed is the first thing wrong, and it explains any failure below.
    const columnsChecked = this.#checkColumns();
    columnsChecked.catch(() => undefined);
    try {
      const summary = await this.#checkTree();
      await columnsChecked;
      return summary;
    } catch (error) {
      await columnsChecked;
      throw error;
    }
  }

  async #checkTree(): Promise<LogSummary> {
    // The first pages of entries are read and handed to the hasher while the rotations are looked
    // up; anything wrong with them is reported where the entries are first needed, as otherwise.
    this.#entries.peek().catch(() => undefined);
    // When the columns match the bodies (checked meanwhile, see run), the `kind` column finds every
    // rotation and retention without parsing every body (in one scan of the log); each body is still
    // hashed, so a forged one fails at its checkpoint.
    const noted = await this.#records.entriesOfKinds(this.#log, [KEY_ROTATED, RETENTION_PRUNED]);
    for (const rotation of noted.filter((entry) => entry.kind === KEY_ROTATED)) this.#noteRotation(rotation);
    this.#prunedBefore = this.#retentionBoundary(noted.filter((entry) => entry.kind === RETENTION_PRUNED));
    const trusted = this.#options.trustedCheckpoint;
    const trustedSize = trusted === undefined ? 0 : this.#trustedCheckpointSize(trusted);
    let trustedChecked = trusted === undefined;
    for await (const page of this.#records.checkpointRows(this.#log)) {
      for (const row of page) {
        if (!trustedChecked && trusted !== undefined && trustedSize <= row.size) {
          await this.#advanceTo(trustedSize, `the trusted checkpoint at ${trustedSize}`);
          if (this.#trusted.length === 0) this.#trustFirstKey(row);
          await this.#checkTrustedCheckpoint(trusted);
          trustedChecked = true;
        }
        await this.#checkCheckpoint(row);
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
    for (const witness of this.#options.witnesses ?? []) {
      if (!this.#cosigned.has(witness)) throw this.#failure('the log', `witness ${witness.verifierKey} cosigned no checkpoint of it`);
    }
    return {
      log: this.#log,
      entries: this.#tree.size,
      checkpoints: this.#checkpoints,
      // The columns are the signed bodies' (checked meanwhile, see run), and this is only returned then.
      firstTime: this.#tree.size === 0 ? null : await this.#records.entryTime(this.#log, 0),
      lastTime: this.#tree.size === 0 ? null : await this.#records.entryTime(this.#log, this.#tree.size - 1),
      keys: this.#signers,
      latest: this.#latest === null ? null : { size: this.#latest.size, root: encodeBase64(this.#latest.root) },
      trustedOnFirstUse: this.#trustedOnFirstUse,
      witnesses: (this.#options.witnesses ?? []).map((witness) => ({
        key: witness.verifierKey,
        latestCosignedSize: this.#cosigned.get(witness) ?? 0,
      })),
      pruned: this.#pruned === 0 ? null : { entries: this.#pruned, before: this.#prunedBefore },
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
        if (tile.hashes.length === TILE_WIDTH) await this.#compareFullTile(tile);
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

  /**
   * Checks the row is the next one; returns its leaf hash. A pruned entry's stored leaf hash is
   * taken in place of its body's only where the signed log itself says retention pruned it.
   */
  #checkEntry(row: HashedEntry, expected: number): Uint8Array {
    if (row.index !== expected) {
      throw this.#failure(`entry ${expected}`, `is missing (the next stored entry is ${row.index})`);
    }
    if (row.pruned) {
      if (row.index >= this.#prunedBefore) {
        throw this.#failure(
          `entry ${row.index}`,
          'has its payload removed (a stored leaf hash in place of its body), but ' +
            (this.#prunedBefore === 0 ? 'the log records no retention that pruned it' : `the log's retention pruned only the entries before ${this.#prunedBefore}`),
        );
      }
      this.#pruned++;
    }
    return row.leaf;
  }

  /**
   * How far retention may have pruned: the furthest boundary of the log's retention.pruned entries,
   * which are never pruned themselves, so their bodies are hashed like any other.
   */
  #retentionBoundary(retentions: readonly EntryRecord[]): number {
    let boundary = 0;
    for (const entry of retentions) {
      const subject = `entry ${entry.index}`;
      if (entry.prunedLeaf !== undefined) throw this.#failure(subject, 'is a retention.pruned entry with its own payload removed: they are never pruned');
      const before = payloadOf(entry)['before'];
      if (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 0 || before > entry.index) {
        throw this.#failure(subject, 'is a retention.pruned entry without a valid boundary (before: an index no later than its own)');
      }
      boundary = Math.max(boundary, before);
    }
    return boundary;
  }

  /** A key rotation takes effect once a checkpoint by the old key covers it. */
  #noteRotation(entry: EntryRecord): void {
    const subject = `entry ${entry.index}`;
    if (entry.prunedLeaf !== undefined) throw this.#failure(subject, 'is a key.rotated entry with its payload removed: key rotations are never pruned');
    // A body that is not JSON is reported just below as a rotation without keys.
    const { previous, next } = payloadOf(entry);
    if (typeof previous !== 'string' || typeof next !== 'string') {
      throw this.#failure(subject, 'is a key.rotated entry without previous and next verifier keys');
    }
    try {
      this.#pendingRotations.push({ index: entry.index, from: previous, to: parseVerifierKey(next) });
    } catch (error) {
      throw this.#failure(subject, `names an unusable new key: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async #checkCheckpoint(row: CheckpointRecord): Promise<void> {
    const subject = `checkpoint ${row.size}`;
    if (this.#trusted.length === 0) this.#trustFirstKey(row);
    const { signers, checkpoint } = this.#open(subject, row.note);
    // Its columns before the entries it covers: a changed size or log column would otherwise read
    // as entries removed from the end of the log.
    if (checkpoint.origin !== this.#log) {
      throw this.#failure(
        subject,
        `its signed origin is "${checkpoint.origin}", but it is stored under log "${this.#log}": ` +
          'its log column was changed or it was copied from another log',
      );
    }
    if (checkpoint.size !== row.size) {
      throw this.#failure(subject, `column size is ${row.size} but the signed checkpoint says ${checkpoint.size}`);
    }
    if (!equalBytes(checkpoint.root, row.root)) {
      throw this.#failure(subject, 'column root differs from the signed checkpoint');
    }
    if (!signers.some((signer) => signer.verifierKey === row.key)) {
      throw this.#failure(subject, `column key names ${row.key}, which did not sign it`);
    }
    await this.#advanceTo(row.size, subject);
    await this.#checkRoot(subject, checkpoint);
    this.#checkCosignatures(subject, row);
    this.#checkpoints++;
    this.#latest = checkpoint;
    for (const signer of signers) {
      if (!this.#signers.includes(signer.verifierKey)) this.#signers.push(signer.verifierKey);
    }
    this.#applyRotations(row.size, signers);
  }

  #checkCosignatures(subject: string, row: CheckpointRecord): void {
    const witnesses = this.#options.witnesses ?? [];
    if (witnesses.length === 0 || row.cosignatures === '') return;
    try {
      for (const { witness } of verifyCosignatures(row.note + row.cosignatures, witnesses)) this.#cosigned.set(witness, row.size);
    } catch (error) {
      throw this.#failure(subject, error instanceof Error ? error.message : String(error));
    }
  }

  /** Checked with the keys in force at its size, so one from before a key rotation still counts. */
  async #checkTrustedCheckpoint(note: string): Promise<void> {
    await this.#checkRoot('the trusted checkpoint', this.#open('the trusted checkpoint', note).checkpoint);
  }

  /**
   * The signed root must be the root of the stored entries at that size. When it is not, the tiles
   * (written with the entries) tell a changed entry from a checkpoint of another history; when it
   * is, a stored tile that disagreed with the entries on the way was changed itself.
   */
  async #checkRoot(subject: string, checkpoint: Checkpoint): Promise<void> {
    if (checkpoint.origin !== this.#log) {
      throw this.#failure(subject, `is for log "${checkpoint.origin}", not this one`);
    }
    if (equalBytes(checkpoint.root, this.#tree.root())) {
      if (this.#tileMismatch !== null) throw this.#tileFailure(this.#tileMismatch);
      return;
    }
    const changed = this.#changedLeaf ?? (await this.#changedLeafAtRightEdge());
    if (changed !== null) {
      throw this.#failure(
        `entry ${changed.entry}`,
        `its body is not the one ${subject} signed: its leaf hash differs from the one tile ${changed.tile} ` +
          'recorded when it was written, so the entry was changed, inserted or moved',
      );
    }
    throw this.#failure(
      subject,
      `its signed root ${encodeBase64(checkpoint.root)} is not the root of the stored entries ` +
        `(${encodeBase64(this.#tree.root())}), which agree with the stored tiles: the checkpoint belongs to ` +
        'another history of the log (split view), or entries were rewritten together with their tiles',
    );
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

  /**
   * Compares a tile that has just filled up with the stored one. A difference is reported at the
   * next checkpoint, whose root tells whether the entries or the tile were changed.
   */
  async #compareFullTile(expected: Tile): Promise<void> {
    const mismatch = tileMismatchOf(await this.#nextStoredTile(expected), expected);
    if (mismatch === null) return;
    this.#tileMismatch ??= mismatch;
    if (expected.level === 0 && mismatch.position < Math.min(mismatch.storedCount, TILE_WIDTH)) {
      this.#changedLeaf ??= { entry: expected.index * TILE_WIDTH + mismatch.position, tile: `0/${expected.index}` };
    }
  }

  /** The right edge's partial tiles must be stored exactly, and no tile beyond them. */
  async #checkRemainingTiles(): Promise<void> {
    for (const tile of this.#tree.rightEdge()) {
      const mismatch = tileMismatchOf(await this.#nextStoredTile(tile), tile);
      if (mismatch !== null) throw this.#tileFailure(mismatch);
    }
    const top = await this.#records.topTileLevel(this.#log);
    for (let level = 0; level <= top; level++) {
      const extra = await this.#tileCursor(level).next();
      if (extra !== undefined) {
        throw this.#failure(`tile ${extra.level}/${extra.index}`, `is stored but a log of ${this.#tree.size} entries has no such tile`);
      }
    }
  }

  async #nextStoredTile(expected: Tile): Promise<TileRecord> {
    const stored = await this.#tileCursor(expected.level).next();
    if (stored === undefined || stored.index !== expected.index) {
      throw this.#failure(
        `tile ${expected.level}/${expected.index}`,
        stored === undefined ? 'is missing' : `is missing (the next stored is ${stored.level}/${stored.index})`,
      );
    }
    return stored;
  }

  /**
   * The first entry of the partial level-0 tile on the right edge whose leaf hash differs from the
   * one stored for it. The stored tile may have grown since; its first hashes are the same.
   */
  async #changedLeafAtRightEdge(): Promise<ChangedLeaf | null> {
    const edge = this.#tree.rightEdge().find((tile) => tile.level === 0);
    if (edge === undefined) return null;
    const stored = await this.#tileCursor(0).peek();
    if (stored === undefined || stored.index !== edge.index) return null;
    const position = firstDifferentHash(stored.hashes, edge.hashes);
    return position === null ? null : { entry: edge.index * TILE_WIDTH + position, tile: `0/${edge.index}` };
  }

  #tileFailure(mismatch: TileMismatch): LogVerificationError {
    const { level, index, position, storedCount, expectedCount } = mismatch;
    const subject = `tile ${level}/${index}`;
    if (position >= Math.min(storedCount, expectedCount)) {
      return this.#failure(subject, `holds ${storedCount} hashes, but the stored entries make ${expectedCount}: the tile was changed`);
    }
    const leaf = level === 0 ? ` (the leaf hash of entry ${index * TILE_WIDTH + position})` : '';
    return this.#failure(
      subject,
      `hash ${position}${leaf} differs from the one recomputed from the stored entries, which the signed ` +
        'checkpoints confirm: the tile was changed',
    );
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

/** An entry whose leaf hash is not the one its level-0 tile recorded. */
interface ChangedLeaf {
  readonly entry: number;
  readonly tile: string;
}

/** Where a stored tile first differs from the one recomputed from the entries. */
interface TileMismatch {
  readonly level: number;
  readonly index: number;
  /** The first differing hash; at or past the shorter tile's end when only the lengths differ. */
  readonly position: number;
  readonly storedCount: number;
  readonly expectedCount: number;
}

function tileMismatchOf(stored: TileRecord, expected: Tile): TileMismatch | null {
  const storedCount = Math.floor(stored.hashes.length / HASH_SIZE);
  const expectedCount = expected.hashes.length;
  const differing = firstDifferentHash(stored.hashes, expected.hashes);
  if (differing === null && stored.hashes.length === expectedCount * HASH_SIZE) return null;
  const position = differing ?? Math.min(storedCount, expectedCount);
  return { level: expected.level, index: expected.index, position, storedCount, expectedCount };
}

/** The first position, among those both have, where the stored hashes differ from `expected`. */
function firstDifferentHash(stored: Uint8Array, expected: readonly Uint8Array[]): number | null {
  const count = Math.min(Math.floor(stored.length / HASH_SIZE), expected.length);
  // Byte by byte in place: a view of each stored hash would cost more than comparing it.
  for (let position = 0; position < count; position++) {
    const hash = expected[position]!;
    if (hash.length !== HASH_SIZE) return position;
    const start = position * HASH_SIZE;
    for (let i = 0; i < HASH_SIZE; i++) if (stored[start + i] !== hash[i]) return position;
  }
  return null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The payload object of a stored entry's body; empty when the body has none (or is not JSON). */
function payloadOf(entry: EntryRecord): Record<string, unknown> {
  try {
    const payload = (JSON.parse(new TextDecoder().decode(entry.body)) as { payload?: unknown }).payload;
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
