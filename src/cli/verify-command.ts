import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { verifyLog, LogVerificationError } from '../ledger/log-verifier.js';
import type { LogSummary } from '../ledger/log-verifier.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import type { NoteVerifier } from '../ledger/note-keys.js';
import { openStore } from '../store/open-store.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { UsageError } from './usage-error.js';

export const VerifyOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  key: z.array(z.string().min(1)).default([]),
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
  const keys = options.key.map(parseKeyOption);
  const trustedCheckpoint = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint);
  const store = await openStore({ url: resolveDatabaseUrl(options.db, 'file:agenttrail.db', env), authToken: env.AGENTTRAIL_DB_AUTH_TOKEN });
  const logs: LogSummary[] = [];
  let failure: VerifyReport['failure'] = null;
  const progress = !options.json && process.stderr.isTTY === true ? new ProgressLine() : undefined;
  try {
    const names = options.log === undefined ? await store.logs() : [options.log];
    if (names.length === 0) failure = { log: '', subject: 'the database', reason: 'holds no log to verify' };
    for (const log of names) {
      try {
        logs.push(
          await verifyLog(store, log, {
            keys,
            trustedCheckpoint,
            onProgress: progress === undefined ? undefined : (entries) => progress.show(`verifying ${log}: ${entries} entries`),
          }),
        );
      } catch (error) {
        if (!(error instanceof LogVerificationError)) throw error;
        failure = { log: error.log, subject: error.subject, reason: error.reason };
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

function parseKeyOption(text: string): NoteVerifier {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new UsageError(`--key: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function readCheckpointFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the trusted checkpoint ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function describeReport(report: VerifyReport, trustedOnFirstUse: boolean): string {
  const lines: string[] = [];
  for (const log of report.logs) {
    lines.push(`log ${log.log}: OK`);
    lines.push(`  entries      ${log.entries}${log.firstTime === null ? '' : ` (${log.firstTime} to ${log.lastTime})`}`);
    lines.push(`  checkpoints  ${log.checkpoints}${log.latest === null ? '' : `, latest: size ${log.latest.size}, root ${log.latest.root}`}`);
    lines.push(`  signed by    ${log.keys.join(', ') || '-'}`);
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
