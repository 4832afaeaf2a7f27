import { userInfo } from 'node:os';
import { z } from 'zod';
import { defaultConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { RetentionPeriodSchema, retentionPeriodMs } from '../config/retention-period.js';
import { connectDatabase, primaryDatabase } from '../store/database-connection.js';
import { countPrunable, pruneEntriesBefore, RETENTION_PRUNED_KIND, retentionBoundary } from '../store/entry-pruning.js';
import { openAuditDatabase, resolveDatabase, resolveDatabaseUrl } from './audit-database.js';
import { assertDatabaseExists } from './existing-database.js';
import { readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { UsageError } from './usage-error.js';

export const PruneOptionsSchema = z.strictObject({
  config: z.string().min(1).optional(),
  db: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  'older-than': RetentionPeriodSchema.optional(),
  json: z.boolean().default(false),
});
export type PruneOptions = z.infer<typeof PruneOptionsSchema>;

/**
 * `agenttrail prune`: removes the payloads of the entries recorded before the retention period.
 * The boundary is first recorded in the log as a retention.pruned entry (signed like any other),
 * then the payloads are removed; running it again after an interruption finishes the job.
 */
export async function runPrune(options: PruneOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const config = options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  const period = options['older-than'] ?? config.log.retention;
  if (period === undefined) throw new UsageError('prune needs a retention period: --older-than 90d, or log.retention in the config file');
  const origin = config.log.origin;
  const url = resolveDatabaseUrl(options.db, config.log.db, env);
  await assertDatabaseExists(url);
  // The key must exist already: a new key could not extend the log's checkpoints.
  const signer = await readGatewayKey(resolveKeyPath(options.key, config.log.key, env));
  const now = new Date();
  const cutoff = new Date(now.getTime() - retentionPeriodMs(period)).toISOString();
  // Pruning writes a signed entry: it is done where the log is sequenced (the server of a replica).
  const target = primaryDatabase(resolveDatabase(options.db, config.log, env));
  const client = await connectDatabase(target);
  const database = await openAuditDatabase(target, origin, signer);
  try {
    const before = await retentionBoundary(client, origin, cutoff);
    const prunable = await countPrunable(client, origin, before);
    let entry: number | null = null;
    let pruned = 0;
    if (prunable > 0) {
      const recorded = await database.appender.append({
        v: 1,
        time: now.toISOString(),
        kind: RETENTION_PRUNED_KIND,
        session: 'retention',
        agent: { transport: 'cli', user: userInfo().username },
        payload: { before, cutoff, period },
      });
      entry = recorded.index;
      pruned = await pruneEntriesBefore(client, origin, before);
    }
    const report = { log: origin, period, cutoff, before, pruned, entry };
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describePrune(report));
  } finally {
    client.close();
    await database.close();
  }
}

function describePrune(report: { log: string; period: string; cutoff: string; before: number; pruned: number; entry: number | null }): string {
  if (report.entry === null) return `log ${report.log}: no entry recorded before ${report.cutoff} (${report.period} ago) has a payload left to remove\n`;
  return (
    `log ${report.log}: removed the payloads of ${report.pruned} entries recorded before ${report.cutoff} (${report.period} ago; index < ${report.before}), ` +
    `recorded as entry ${report.entry} (${RETENTION_PRUNED_KIND}). Their leaf hashes stay, so agenttrail verify still checks the tree and every checkpoint.\n`
  );
}
