import { z } from 'zod';
import { EvidenceBundleError, writeEvidenceBundle } from '../ledger/evidence-bundle.js';
import type { EvidenceBundleSummary } from '../ledger/evidence-bundle.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { writeCompleteFile } from './complete-file.js';
import { chooseLog } from './log-choice.js';
import type { LogCatalog } from './log-choice.js';
import { runRecordExport } from './record-export.js';
import { writeToStdout } from './standard-output.js';
import { UsageError } from './usage-error.js';
import { parseKeyOption } from './verify-command.js';

export const ExportOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  format: z.enum(['bundle', 'jsonl', 'ocsf', 'otlp'], { error: 'is required: bundle, jsonl, ocsf or otlp' }),
  session: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  key: z.array(z.string().min(1)).default([]),
  out: z.string().min(1).optional(),
  endpoint: z.string().min(1).optional(),
  header: z.array(z.string().min(1)).default([]),
});
export type ExportOptions = z.infer<typeof ExportOptionsSchema>;

/**
 * `agenttrail export`: an evidence bundle (this file), or the log's records as JSON Lines, OCSF
 * events or OpenTelemetry traces (record-export.ts). Returns false when a bundle cannot be made
 * because the stored log does not match its checkpoint (exit 1).
 */
export async function runExport(options: ExportOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  assertOptionsFitFormat(options);
  if (options.format !== 'bundle') {
    await runRecordExport({ ...options, format: options.format }, env);
    return true;
  }
  return runBundleExport(options, env);
}

function assertOptionsFitFormat(options: ExportOptions): void {
  const otlp = options.format === 'otlp';
  const misplaced: [string, boolean][] = [
    ['--endpoint', !otlp && options.endpoint !== undefined],
    ['--header', !otlp && options.header.length > 0],
    ['--out', otlp && options.out !== undefined],
    ['--key', options.format !== 'bundle' && options.key.length > 0],
  ];
  const [name] = misplaced.find(([, wrong]) => wrong) ?? [];
  if (name !== undefined) throw new UsageError(`${name} does not apply to --format ${options.format}`);
}

/**
 * `--format bundle`: streams the entries (of one session, or all) with their inclusion proofs
 * against the log's latest checkpoint into an evidence bundle. Returns false when the stored log
 * does not match its checkpoint; nothing is left at --out then.
 */
async function runBundleExport(options: ExportOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  const keys = options.key.map(parseKeyOption);
  const store = await openStore({ url: resolveDatabaseUrl(options.db, 'file:agenttrail.db', env), authToken: env.AGENTTRAIL_DB_AUTH_TOKEN, readOnly: true });
  try {
    const log = await chooseLog(storeCatalog(store), options.log, options.session);
    const checkpoint = await store.checkpoint(log);
    if (checkpoint === undefined) throw new Error(`log "${log}" has no signed checkpoint yet, so there is nothing to prove its entries against`);
    const session = options.session ?? null;
    if (session !== null && (await store.entries(log, { session, limit: 1 })).length === 0) {
      throw new Error(`log "${log}" in ${store.url} has no session "${session}"`);
    }
    // Without --key the checkpoint is checked against the key stored beside it, as verify does.
    const trusted = keys.length > 0 ? keys : [parseVerifierKey(checkpoint.key)];
    const source = {
      log,
      session,
      checkpoint: checkpoint.note,
      entries: store.leavesBefore(log, checkpoint.size, session ?? undefined),
      inclusionProof: (index: number, size: number) => store.inclusionProof(log, index, size),
    };
    let summary: EvidenceBundleSummary;
    try {
      summary = options.out === undefined ? await writeEvidenceBundle(source, trusted, writeToStdout) : await writeCompleteFile(options.out, (write) => writeEvidenceBundle(source, trusted, write));
    } catch (error) {
      if (!(error instanceof EvidenceBundleError)) throw error;
      process.stderr.write(`agenttrail: cannot export a bundle that verifies: ${error.message}; run agenttrail verify --db to find what is wrong\n`);
      return false;
    }
    // The bundle itself is on stdout without --out, so the summary goes to stderr then.
    (options.out === undefined ? process.stderr : process.stdout).write(describeExport(summary, options.out, keys.length === 0));
    return true;
  } finally {
    await store.close();
  }
}

function storeCatalog(store: Store): LogCatalog {
  return {
    url: store.url,
    logs: () => store.logs(),
    hasSession: async (log, session) => (await store.entries(log, { session, limit: 1 })).length > 0,
  };
}

function describeExport(summary: EvidenceBundleSummary, out: string | undefined, trustedStoredKey: boolean): string {
  const what = summary.session === null ? 'all entries' : `session ${summary.session}`;
  const lines = [
    `exported ${what} of log ${summary.log} to ${out ?? 'stdout'}`,
    `  entries      ${summary.entries} (index ${summary.firstIndex} to ${summary.lastIndex}, ${summary.firstTime} to ${summary.lastTime})`,
    `  checkpoint   size ${summary.checkpoint.size}, root ${summary.checkpoint.root}`,
    `  signed by    ${summary.signedBy.join(', ')}`,
    `check it with: agenttrail verify --bundle ${out ?? 'FILE'} --key VERIFIER_KEY (the log's key, from agenttrail keys show)`,
  ];
  if (trustedStoredKey) {
    lines.push('note: no --key given, so the checkpoint was checked against the key stored with it; pass --key VERIFIER_KEY to check it against a key you hold');
  }
  return `${lines.join('\n')}\n`;
}
