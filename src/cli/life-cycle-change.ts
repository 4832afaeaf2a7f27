import { userInfo } from 'node:os';
import type { Client } from '@libsql/client';
import { z } from 'zod';
import { defaultConfig } from '../config/config-schema.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import type { Entry } from '../ledger/entry.js';
import { connectDatabase, primaryDatabase } from '../store/database-connection.js';
import { applyMigrations } from '../store/migrations.js';
import type { RecordedChange } from '../store/stored-row.js';
import type { AuditDatabase } from './audit-database.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import { loadOrCreateGatewayKey, resolveKeyPath } from './gateway-key.js';

/** The options every life-cycle command (agents, credentials) takes. */
export const LifeCycleOptionsShape = {
  db: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  json: z.boolean().optional(),
};
export type LifeCycleOptions = z.infer<z.ZodObject<typeof LifeCycleOptionsShape>>;

/** The config a life-cycle command records in: the gateway's (--config), else the defaults. */
export async function lifeCycleConfig(options: LifeCycleOptions, env: NodeJS.ProcessEnv): Promise<GatewayConfig> {
  return options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
}

/** A row that remembers the ledger entry that gave it its state. */
export interface RecordedRow {
  readonly log: string;
}

/** The rows a life-cycle command changes, one ledger entry per change. */
export interface LifeCycleRows<Row extends RecordedRow> {
  /** What a row is of, for messages: "principal" or "credential". */
  readonly noun: string;
  /** The command that changes them ("agents", "credentials"); its name is the entries' session. */
  readonly command: string;
  read(client: Client, name: string): Promise<Row | undefined>;
}

export interface LifeCycleChange<Row extends RecordedRow, Payload> {
  /** The entry that records the change; throws LifeCycleError when it does not apply to `current`. */
  entry(current: Row | undefined): { kind: string; payload: Payload };
  /** Makes the change the entry recorded; false when a later entry has changed the row already. */
  apply(client: Client, current: Row | undefined, payload: Payload, recorded: RecordedChange): Promise<boolean>;
}

/**
 * Write-ahead, like a tool call: the ledger entry is durable first, and only then does the row
 * change, so a log that cannot be written changes nothing. A crash between the two leaves the log
 * ahead of the row; running the same command again records the change again and applies it. The
 * row remembers the entry that set it and only a later entry of the same log may change it, so
 * two operators acting on one row at once leave it as the log's later entry says.
 */
export async function recordLifeCycleChange<Row extends RecordedRow, Payload>(
  rows: LifeCycleRows<Row>,
  name: string,
  change: LifeCycleChange<Row, Payload>,
  options: LifeCycleOptions,
  config: GatewayConfig,
  env: NodeJS.ProcessEnv,
): Promise<{ entry: Entry; payload: Payload }> {
  const origin = config.log.origin;
  // Changes are made where the log is sequenced: on the server, when the config names an embedded replica.
  const target = primaryDatabase(resolveDatabase(options.db, config.log, env));
  const signer = await loadOrCreateGatewayKey(resolveKeyPath(options.key, config.log.key, env), origin);
  const database = await openAuditDatabase(target, origin, signer);
  let client: Client | undefined;
  try {
    client = await connectDatabase(target);
    const current = await rows.read(client, name);
    await assertSameLog(database, origin, rows.noun, current?.log);
    const { kind, payload } = change.entry(current);
    const entry = await database.appender.append({
      v: 1,
      time: new Date().toISOString(),
      kind,
      session: rows.command,
      agent: { transport: 'cli', user: userInfo().username },
      payload,
    });
    if (!(await change.apply(client, current, payload, { time: entry.time, log: origin, entry: entry.index }))) {
      throw new Error(
        `"${name}" was changed by another agenttrail process while this one recorded ${entry.kind} (entry ${entry.index} of log "${origin}"), ` +
          `so it did not take effect; see agenttrail ${rows.command} list`,
      );
    }
    return { entry, payload };
  } finally {
    client?.close();
    await database.close();
  }
}

/** Reads rows for a list command, on a database brought to the latest schema. */
export async function readForList<T>(options: LifeCycleOptions, config: GatewayConfig, env: NodeJS.ProcessEnv, read: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectDatabase(resolveDatabase(options.db, config.log, env));
  try {
    await applyMigrations(client);
    return await read(client);
  } finally {
    client.close();
  }
}

/** Rows as aligned columns under a header line, the last column unpadded. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  process.stdout.write(`${[header, ...rows].map(line).join('\n')}\n`);
}

/**
 * A row's changes stay in the log that recorded it, and no change starts a log beside the
 * gateway's (say, under the default origin because --config was left out).
 */
async function assertSameLog(database: AuditDatabase, origin: string, noun: string, rowLog: string | undefined): Promise<void> {
  if (rowLog !== undefined && rowLog !== origin) {
    throw new Error(`this ${noun} is recorded in log "${rowLog}", not "${origin}"; pass the gateway's --config`);
  }
  const logs = await database.store.logs();
  if (rowLog === undefined && logs.length > 0 && !logs.includes(origin)) {
    throw new Error(`the database holds no log "${origin}" (it holds ${logs.map((log) => `"${log}"`).join(', ')}); pass the gateway's --config`);
  }
}
