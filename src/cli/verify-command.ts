import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { findApprovalProblem } from '../approvals/approval-verification.js';
import { EvidenceBundleError, verifyEvidenceBundle } from '../ledger/evidence-bundle.js';
import type { EvidenceBundleSummary } from '../ledger/evidence-bundle.js';
import { verifyLog, LogVerificationError } from '../ledger/log-verifier.js';
import type { LogSummary } from '../ledger/log-verifier.js';
import { parseWitnessVerifierKey } from '../ledger/cosignature.js';
import type { WitnessVerifier } from '../ledger/cosignature.js';
import { parseCheckpoint } from '../ledger/checkpoint.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import type { NoteVerifier } from '../ledger/note-keys.js';
import { parseSignedNote } from '../ledger/signed-note.js';
import { openStore } from '../store/open-store.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { assertDatabaseExists } from './existing-database.js';
import { UsageError } from './usage-error.js';

export const VerifyOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  bundle: z.string().min(1).optional(),
  key: z.array(z.string().min(1)).default([]),
  'witness-key': z.array(z.string().min(1)).default([]),
  checkpoint: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  json: z.boolean().default(false),
});
export type VerifyOptions = z.infer<typeof VerifyOptionsSchema>;

/** What `verify --json` prints: one document, whether the log holds or not. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly database: string;
  readonly logs: readonly LogSummary[];
  readonly failure: { readonly log: string; readonly subject: string; readonly reason: string } | null;
}

/** `agenttrail verify`: returns true when every log holds. */
export async function runVerify(options: VerifyOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (options.bundle !== undefined) return runVerifyBundle(options.bundle, options);
  const keys = options.key.map(parseKeyOption);
  const witnesses = options['witness-key'].map(parseWitnessKeyOption);
  const trusted = options.checkpoint === undefined ? undefined : await readTrustedCheckpoint(options.checkpoint);
  if (trusted !== undefined && options.log !== undefined && trusted.origin !== options.log) {
    throw new UsageError(`--checkpoint ${options.checkpoint} is for log "${trusted.origin}", not --log ${options.log}`);
  }
  const url = resolveDatabaseUrl(options.db, 'file:agenttrail.db', env);
  await assertDatabaseExists(url);
  const store = await openStore({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN, readOnly: true });
  const logs: LogSummary[] = [];
  let failure: VerifyReport['failure'] = null;
  const progress = !options.json && process.stderr.isTTY === true ? new ProgressLine() : undefined;
  try {
    const stored = await store.logs();
    const names = options.log === undefined ? stored : [options.log];
    if (stored.length === 0) {
      failure = { log: '', subject: 'the database', reason: 'holds no log to verify' };
    } else if (options.log !== undefined && !stored.includes(options.log)) {
      // A log with no rows would otherwise pass as empty, whether it was misnamed or deleted.
      failure = { log: options.log, subject: 'the log', reason: `is not in the database, which holds ${stored.map((name) => `"${name}"`).join(', ')}` };
    } else if (trusted !== undefined && !names.includes(trusted.origin)) {
      failure = {
        log: trusted.origin,
        subject: 'the trusted checkpoint',
        reason: `is for log "${trusted.origin}", which the database does not hold: the log was removed, or this is another database`,
      };
    }
    for (const log of failure === null ? names : []) {
      try {
        logs.push(
          await verifyLog(store, log, {
            keys,
            // A checkpoint kept from one log says nothing about the others in the database.
            trustedCheckpoint: log === trusted?.origin ? trusted.note : undefined,
            witnesses,
            onProgress: progress === undefined ? undefined : (entries) => progress.show(`verifying ${log}: ${entries} entries`),
          }),
        );
      } catch (error) {
        if (!(error instanceof LogVerificationError)) throw error;
        failure = { log: error.log, subject: error.subject, reason: error.reason };
        break;
      }
      // The entries are intact; the approvers' own signatures in them must hold too.
      const approval = await findApprovalProblem(store, log);
      if (approval !== undefined) {
        failure = { log, subject: `entry ${approval.index}`, reason: approval.reason };
        break;
      }
    }
  } finally {
    progress?.clear();
    await store.close();
  }
  const report: VerifyReport = { ok: failure === null, database: store.url, logs, failure };
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report, keys.length === 0));
  return report.ok;
}

export function parseWitnessKeyOption(text: string): WitnessVerifier {
  try {
    return parseWitnessVerifierKey(text);
  } catch (error) {
    throw new UsageError(`--witness-key: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function parseKeyOption(text: string): NoteVerifier {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new UsageError(`--key: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The signed checkpoint in `path` and the log it names (its signature is checked with the log). */
async function readTrustedCheckpoint(path: string): Promise<{ note: string; origin: string }> {
  let note: string;
  try {
    note = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the trusted checkpoint ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    return { note, origin: parseCheckpoint(parseSignedNote(note).text).origin };
  } catch (error) {
    throw new Error(`--checkpoint ${path} is not a signed checkpoint: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function describeReport(report: VerifyReport, trustedOnFirstUse: boolean): string {
  const lines: string[] = [];
  for (const log of report.logs) {
    lines.push(`log ${log.log}: OK`);
    lines.push(`  entries      ${log.entries}${log.firstTime === null ? '' : ` (${log.firstTime} to ${log.lastTime})`}`);
    lines.push(`  checkpoints  ${log.checkpoints}${log.latest === null ? '' : `, latest: size ${log.latest.size}, root ${log.latest.root}`}`);
    lines.push(`  signed by    ${log.keys.join(', ') || '-'}`);
    for (const witness of log.witnesses) lines.push(`  cosigned by  ${witness.key} up to size ${witness.latestCosignedSize}`);
    if (log.pruned !== null) {
      lines.push(
        `  pruned       ${log.pruned.entries} entries before index ${log.pruned.before} had their payloads removed by retention; ` +
          'their stored leaf hashes stood in for them (their other fields are no longer evidence)',
      );
    }
  }
  if (report.failure !== null) {
    const where = report.failure.log === '' ? '' : `log ${report.failure.log}: `;
    lines.push(`FAILED: ${where}${report.failure.subject}: ${report.failure.reason}`);
  } else if (trustedOnFirstUse) {
    lines.push(
      'note: no --key given, so the key stored with each log was trusted; pass --key VERIFIER_KEY ' +
        '(agenttrail keys show) to check the signatures against a key you hold',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One status line on a terminal, redrawn at most a few times a second. */
class ProgressLine {
  #shownAt = 0;
  #shown = false;

  show(text: string): void {
    const now = Date.now();
    if (now - this.#shownAt < 200) return;
    this.#shownAt = now;
    this.#shown = true;
    process.stderr.write(`\r\u001b[2K${text}`);
  }

  clear(): void {
    if (this.#shown) process.stderr.write('\r\u001b[2K');
  }
}

/** What `verify --bundle --json` prints. */
export interface BundleVerifyReport {
  readonly ok: boolean;
  readonly bundle: string;
  readonly summary: EvidenceBundleSummary | null;
  readonly failure: { readonly subject: string; readonly reason: string } | null;
}

/** `agenttrail verify --bundle FILE`: checks an evidence bundle with no database. */
async function runVerifyBundle(path: string, options: VerifyOptions): Promise<boolean> {
  const databaseOption = (['db', 'checkpoint', 'log'] as const).find((name) => options[name] !== undefined) ??
    (options['witness-key'].length > 0 ? 'witness-key' : undefined);
  if (databaseOption !== undefined) throw new UsageError(`--bundle is checked without a database; drop --${databaseOption}`);
  if (options.key.length === 0) {
    throw new UsageError('--bundle needs --key VERIFIER_KEY: a bundle is evidence only against a log key you trust');
  }
  const keys = options.key.map(parseKeyOption);
  let file: FileHandle;
  try {
    file = await open(path);
  } catch (error) {
    throw new Error(`cannot read the bundle ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const input = file.createReadStream({ encoding: 'utf8' });
  let summary: EvidenceBundleSummary | null = null;
  let failure: BundleVerifyReport['failure'] = null;
  try {
    summary = await verifyEvidenceBundle(createInterface({ input, crlfDelay: Infinity }), keys);
  } catch (error) {
    if (!(error instanceof EvidenceBundleError)) throw error;
    failure = { subject: error.subject, reason: error.reason };
  } finally {
    input.destroy();
  }
  const report: BundleVerifyReport = { ok: failure === null, bundle: path, summary, failure };
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : describeBundleReport(report));
  return report.ok;
}

function describeBundleReport(report: BundleVerifyReport): string {
  const { summary, failure } = report;
  if (failure !== null) return `FAILED: bundle ${report.bundle}: ${failure.subject}: ${failure.reason}\n`;
  if (summary === null) return '';
  return [
    `bundle ${report.bundle}: OK`,
    `  log          ${summary.log}`,
    `  session      ${summary.session ?? '(all entries of the log)'}`,
    `  entries      ${summary.entries} (index ${summary.firstIndex} to ${summary.lastIndex}, ${summary.firstTime} to ${summary.lastTime})`,
    `  checkpoint   size ${summary.checkpoint.size}, root ${summary.checkpoint.root}`,
    `  signed by    ${summary.signedBy.join(', ')}`,
    '',
  ].join('\n');
}
