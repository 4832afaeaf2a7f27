import { z } from 'zod';
import { decodeBase64, encodeBase64 } from './base64.js';
import { parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { EntrySchema } from './entry.js';
import type { EntryRecord } from './hashed-entries.js';
import { leafHash } from './merkle-hash.js';
import type { NoteVerifier } from './note-keys.js';
import { verifyInclusion } from './proof-verification.js';
import { verifyNote } from './signed-note.js';
import { formatTlogProof, parseTlogProof } from './tlog-proof.js';
import type { TlogProof } from './tlog-proof.js';

/**
 * An evidence bundle: entries of a log, each with its c2sp.org/tlog-proof@v1 against one signed
 * checkpoint, checkable with no database (docs/evidence-bundle.md). JSON Lines, UTF-8:
 *
 *   {"format":"agenttrail/evidence-bundle@v1","log":ORIGIN,"session":ID|null,"checkpoint":NOTE}
 *   {"entry":BASE64(entry bytes),"proof":TLOG-PROOF}      one line per entry, in index order
 *   {"entries":COUNT}
 *
 * A bundle with `"session": null` holds every entry of the checkpoint's tree, so its completeness
 * can be checked too; a session's bundle can show only that each entry it holds is in the log.
 */

export const EVIDENCE_BUNDLE_FORMAT = 'agenttrail/evidence-bundle@v1';

const BundleHeaderSchema = z.strictObject({
  format: z.string(),
  log: z.string().min(1),
  session: z.string().nullable(),
  checkpoint: z.string().min(1),
});
const BundleEntrySchema = z.strictObject({ entry: z.string(), proof: z.string() });
const BundleEndSchema = z.strictObject({ entries: z.number().int().nonnegative() });
/** What the bundle checks in an entry's body: that it is the entry its proof and header say. */
const EntryClaimsSchema = EntrySchema.pick({ index: true, session: true, time: true });

export interface EvidenceBundleSummary {
  readonly log: string;
  /** null: the bundle holds every entry of the log up to the checkpoint. */
  readonly session: string | null;
  readonly entries: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly firstTime: string;
  readonly lastTime: string;
  readonly checkpoint: { readonly size: number; readonly root: string };
  /** The verifier keys whose signatures on the checkpoint verified. */
  readonly signedBy: readonly string[];
}

/** The first thing wrong with a bundle; `subject` names the entry (and its line) or the checkpoint. */
export class EvidenceBundleError extends Error {
  readonly subject: string;
  readonly reason: string;

  constructor(subject: string, reason: string) {
    super(`${subject}: ${reason}`);
    this.name = 'EvidenceBundleError';
    this.subject = subject;
    this.reason = reason;
  }
}

/**
 * Checks a bundle, given its lines without their newlines, against the verifier keys the checkpoint
 * must be signed by. Reads one line at a time. Throws an EvidenceBundleError naming the first
 * bad line.
 */
export async function verifyEvidenceBundle(
  lines: AsyncIterable<string> | Iterable<string>,
  keys: readonly NoteVerifier[],
): Promise<EvidenceBundleSummary> {
  const check = new BundleCheck(keys);
  for await (const line of lines) check.line(line);
  return check.finish();
}

/** What an evidence bundle is made of, read from the log's store. */
export interface EvidenceSource {
  readonly log: string;
  readonly session: string | null;
  /** The signed checkpoint every proof leads to (the log's latest). */
  readonly checkpoint: string;
  /** The entries to include, a page at a time in index order, all below the checkpoint's size. */
  readonly entries: AsyncIterable<readonly EntryRecord[]>;
  inclusionProof(index: number, size: number): Promise<readonly Uint8Array[]>;
}

/**
 * Writes the bundle of `source` through `write`, a page of entries at a time, and returns what
 * it holds. Every line is checked as a verifier will check it, so a bundle is only completed if
 * it verifies with `keys`; a store that does not match its checkpoint throws EvidenceBundleError.
 */
export async function writeEvidenceBundle(
  source: EvidenceSource,
  keys: readonly NoteVerifier[],
  write: (chunk: string) => Promise<void>,
): Promise<EvidenceBundleSummary> {
  const check = new BundleCheck(keys);
  const line = (value: object): string => {
    const text = JSON.stringify(value);
    check.line(text);
    return `${text}\n`;
  };
  await write(line({ format: EVIDENCE_BUNDLE_FORMAT, log: source.log, session: source.session, checkpoint: source.checkpoint }));
  const size = check.checkpointSize();
  let count = 0;
  for await (const page of source.entries) {
    const chunk: string[] = [];
    for (const { index, body, prunedLeaf } of page) {
      if (prunedLeaf !== undefined) {
        throw new Error(`entry ${index} of log "${source.log}" was pruned (retention removed its payload), so no bundle can prove it; bundle a session recorded since`);
      }
      const proof = await source.inclusionProof(index, size);
      chunk.push(line({ entry: encodeBase64(body), proof: formatTlogProof({ index, proof, checkpoint: source.checkpoint }) }));
    }
    count += page.length;
    if (chunk.length > 0) await write(chunk.join(''));
  }
  await write(line({ entries: count }));
  return check.finish();
}

interface OpenedCheckpoint {
  readonly log: string;
  readonly session: string | null;
  /** The signed note, byte for byte as every proof must repeat it. */
  readonly note: string;
  readonly checkpoint: Checkpoint;
  readonly signedBy: readonly string[];
}

interface Progress {
  count: number;
  firstIndex: number;
  lastIndex: number;
  firstTime: string;
  lastTime: string;
}

/** Reads a bundle line by line: the header, the entries, the closing count. */
class BundleCheck {
  readonly #keys: readonly NoteVerifier[];
  #lineNumber = 0;
  #opened: OpenedCheckpoint | undefined;
  #progress: Progress | undefined;
  #closingCount: number | undefined;

  constructor(keys: readonly NoteVerifier[]) {
    if (keys.length === 0) {
      throw new EvidenceBundleError('the checkpoint', 'no verifier key given: a bundle is only evidence against a key you trust');
    }
    this.#keys = keys;
  }

  line(text: string): void {
    const where = `line ${++this.#lineNumber}`;
    if (this.#closingCount !== undefined) {
      throw new EvidenceBundleError(where, 'follows the closing {"entries": N} line: something was appended to the bundle');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new EvidenceBundleError(where, `is not JSON (${messageOf(error)})`);
    }
    if (this.#opened === undefined) this.#opened = this.#readHeader(json, where);
    else if (typeof json === 'object' && json !== null && 'entry' in json) this.#readEntry(this.#opened, json, where);
    else this.#closingCount = this.#readClosingLine(this.#opened, json, where);
  }

  checkpointSize(): number {
    if (this.#opened === undefined) throw new Error('the bundle header has not been read yet');
    return this.#opened.checkpoint.size;
  }

  finish(): EvidenceBundleSummary {
    const opened = this.#opened;
    if (opened === undefined) throw new EvidenceBundleError('the bundle', 'is empty');
    if (this.#closingCount === undefined) {
      throw new EvidenceBundleError('the bundle', `ends at line ${this.#lineNumber} without its closing {"entries": N} line: it was truncated`);
    }
    const progress = this.#progress;
    if (progress === undefined) throw new EvidenceBundleError('the bundle', 'holds no entries, so it proves nothing');
    const { checkpoint } = opened;
    return {
      log: opened.log,
      session: opened.session,
      entries: progress.count,
      firstIndex: progress.firstIndex,
      lastIndex: progress.lastIndex,
      firstTime: progress.firstTime,
      lastTime: progress.lastTime,
      checkpoint: { size: checkpoint.size, root: encodeBase64(checkpoint.root) },
      signedBy: opened.signedBy,
    };
  }

  #readHeader(json: unknown, where: string): OpenedCheckpoint {
    const header = BundleHeaderSchema.safeParse(json);
    if (!header.success) {
      throw new EvidenceBundleError(where, `is not an evidence bundle header: ${z.prettifyError(header.error).replace(/\s*\n\s*/g, ' ')}`);
    }
    const { format, log, session, checkpoint: note } = header.data;
    if (format !== EVIDENCE_BUNDLE_FORMAT) {
      throw new EvidenceBundleError(where, `has format ${JSON.stringify(format)}, not ${EVIDENCE_BUNDLE_FORMAT}`);
    }
    let opened: { text: string; verifiedBy: NoteVerifier[] };
    let checkpoint: Checkpoint;
    try {
      opened = verifyNote(note, this.#keys);
      checkpoint = parseCheckpoint(opened.text);
    } catch (error) {
      throw new EvidenceBundleError('the checkpoint', error instanceof Error ? error.message : String(error));
    }
    if (checkpoint.origin !== log) {
      throw new EvidenceBundleError('the checkpoint', `is for log "${checkpoint.origin}", but the bundle says it holds entries of "${log}"`);
    }
    return { log, session, note, checkpoint, signedBy: opened.verifiedBy.map((key) => key.verifierKey) };
  }

  #readEntry(opened: OpenedCheckpoint, json: object, where: string): void {
    const line = BundleEntrySchema.safeParse(json);
    if (!line.success) {
      throw new EvidenceBundleError(where, `is not an entry line: ${z.prettifyError(line.error).replace(/\s*\n\s*/g, ' ')}`);
    }
    let parsed: TlogProof;
    try {
      parsed = parseTlogProof(line.data.proof);
    } catch (error) {
      throw new EvidenceBundleError(where, `its proof is not a c2sp.org/tlog-proof@v1: ${messageOf(error)}`);
    }
    const { index, proof } = parsed;
    const subject = `entry ${index} (${where})`;
    // Compared as text: the signature was checked on the header's copy, and a proof carries it verbatim.
    if (parsed.checkpoint !== opened.note) {
      throw new EvidenceBundleError(subject, "its proof's checkpoint is not the bundle's signed checkpoint, byte for byte");
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(line.data.entry, 'its entry');
    } catch (error) {
      throw new EvidenceBundleError(subject, messageOf(error));
    }
    const { size, root } = opened.checkpoint;
    this.#checkOrder(opened, index, subject);
    try {
      verifyInclusion(BigInt(index), BigInt(size), leafHash(bytes), proof, root);
    } catch (error) {
      throw new EvidenceBundleError(
        subject,
        `its bytes and inclusion proof do not lead to the signed checkpoint (size ${size}): the entry or its proof was altered (${messageOf(error)})`,
      );
    }
    const claims = this.#claimsOf(bytes, subject);
    if (claims.index !== index) {
      throw new EvidenceBundleError(subject, `its body says it is entry ${claims.index}, but its proof is for entry ${index}`);
    }
    if (opened.session !== null && claims.session !== opened.session) {
      throw new EvidenceBundleError(subject, `belongs to session "${claims.session}", not to session "${opened.session}" that the bundle claims`);
    }
    const progress = this.#progress;
    if (progress === undefined) {
      this.#progress = { count: 1, firstIndex: index, lastIndex: index, firstTime: claims.time, lastTime: claims.time };
    } else {
      progress.count++;
      progress.lastIndex = index;
      progress.lastTime = claims.time;
    }
  }

  /** Entries come in index order, once each; the whole log's bundle has every one of them. */
  #checkOrder(opened: OpenedCheckpoint, index: number, subject: string): void {
    const previous = this.#progress?.lastIndex ?? -1;
    if (index <= previous) {
      throw new EvidenceBundleError(subject, `comes after entry ${previous}: entries are duplicated or out of order`);
    }
    if (opened.session === null && index !== previous + 1) {
      throw new EvidenceBundleError(subject, `follows entry ${previous}: the bundle of the whole log is missing ${index - previous === 2 ? `entry ${previous + 1}` : `entries ${previous + 1} to ${index - 1}`}`);
    }
  }

  #claimsOf(bytes: Uint8Array, subject: string): z.infer<typeof EntryClaimsSchema> {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (error) {
      throw new EvidenceBundleError(subject, `its bytes are not UTF-8 JSON (${messageOf(error)})`);
    }
    const claims = EntryClaimsSchema.safeParse(json);
    if (!claims.success) {
      throw new EvidenceBundleError(subject, `is not an AgentTrail entry: ${z.prettifyError(claims.error).replace(/\s*\n\s*/g, ' ')}`);
    }
    return claims.data;
  }

  #readClosingLine(opened: OpenedCheckpoint, json: unknown, where: string): number {
    const closing = BundleEndSchema.safeParse(json);
    if (!closing.success) {
      throw new EvidenceBundleError(where, 'is neither an entry line {"entry", "proof"} nor the closing line {"entries": N}');
    }
    const count = this.#progress?.count ?? 0;
    if (closing.data.entries !== count) {
      throw new EvidenceBundleError(where, `says the bundle holds ${closing.data.entries} entries, but it holds ${count}: entry lines were removed or added`);
    }
    const { size } = opened.checkpoint;
    if (opened.session === null && count !== size) {
      throw new EvidenceBundleError(where, `ends the bundle of the whole log after ${count} entries, but its checkpoint covers ${size}`);
    }
    return closing.data.entries;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
