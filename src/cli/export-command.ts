import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { EvidenceBundleError, writeEvidenceBundle } from '../ledger/evidence-bundle.js';
import type { EvidenceBundleSummary } from '../ledger/evidence-bundle.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { resolveDatabaseUrl } from './audit-database.js';
import { UsageError } from './usage-error.js';
import { parseKeyOption } from './verify-command.js';

export const ExportOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  format: z.enum(['jsonl', 'ocsf', 'bundle'], { error: 'is required: jsonl, ocsf or bundle' }),
  session: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  key: z.array(z.string().min(1)).default([]),
  out: z.string().min(1).optional(),
});
export type ExportOptions = z.infer<typeof ExportOptionsSchema>;

/**
 * `agenttrail export --format bundle`: streams the entries (of one session, or all) with their
 * inclusion proofs against the log's latest checkpoint into an evidence bundle. Returns false
 * when the stored log does not match its checkpoint (exit 1); nothing is left at --out then.
 */
export async function runExport(options: ExportOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (options.format !== 'bundle') {
    throw new UsageError(`--format ${options.format} is not implemented yet; only --format bundle is`);
  }
  const keys = options.key.map(parseKeyOption);
  const store = await openStore({ url: resolveDatabaseUrl(options.db, 'file:agenttrail.db', env), authToken: env.AGENTTRAIL_DB_AUTH_TOKEN, readOnly: true });
  try {
    const log = await chooseLog(store, options.log, options.session);
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
      summary = options.out === undefined ? await writeEvidenceBundle(source, trusted, writeToStdout) : await writeBundleFile(options.out, (write) => writeEvidenceBundle(source, trusted, write));
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

/** --log, else the database's only log, else the only one with the session. */
async function chooseLog(store: Store, log: string | undefined, session: string | undefined): Promise<string> {
  const logs = await store.logs();
  if (log !== undefined) {
    if (!logs.includes(log)) throw new Error(`${store.url} has no log "${log}" (logs: ${logs.join(', ') || 'none'})`);
    return log;
  }
  if (logs.length === 0) throw new Error(`${store.url} holds no log to export`);
  let candidates = logs;
  if (session !== undefined && logs.length > 1) {
    const holding = await Promise.all(logs.map(async (name) => ((await store.entries(name, { session, limit: 1 })).length > 0 ? name : undefined)));
    candidates = holding.filter((name) => name !== undefined);
    if (candidates.length === 0) throw new Error(`no log in ${store.url} has a session "${session}"`);
  }
  if (candidates.length > 1) throw new UsageError(`${store.url} holds several logs (${candidates.join(', ')}); choose one with --log ORIGIN`);
  return candidates[0]!;
}

/**
 * Writes to a temporary file beside `path` and renames it into place once complete, so that a
 * failed export never leaves something that looks like a bundle.
 */
async function writeBundleFile<T>(path: string, fill: (write: (chunk: string) => Promise<void>) => Promise<T>): Promise<T> {
  const temporary = `${path}.${process.pid}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx');
  } catch (error) {
    throw new Error(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let renamed = false;
  try {
    const result = await fill((chunk) => writeAll(handle, chunk));
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
    renamed = true;
    return result;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
    }
  }
}

async function writeAll(handle: FileHandle, chunk: string): Promise<void> {
  const bytes = Buffer.from(chunk, 'utf8');
  for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at)).bytesWritten;
}

function writeToStdout(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(chunk, (error) => (error ? reject(error) : resolve())));
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
