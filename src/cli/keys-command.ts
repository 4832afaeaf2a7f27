import { rm, rename } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { defaultConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { isValidKeyName } from '../ledger/note-keys.js';
import type { Store } from '../store/open-store.js';
import { openAuditDatabase, resolveDatabase } from './audit-database.js';
import type { DatabaseOptions } from '../store/database-connection.js';
import { createGatewayKey, readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { UsageError } from './usage-error.js';

export const KeysOptionsSchema = z.strictObject({
  key: z.string().min(1).optional(),
  origin: z
    .string()
    .refine(isValidKeyName, 'expected a name without spaces or "+" (e.g. example.com/agenttrail)')
    .optional(),
  config: z.string().min(1).optional(),
  db: z.string().min(1).optional(),
});
export type KeysOptions = z.infer<typeof KeysOptionsSchema>;

export const KeysActionSchema = z.enum(['init', 'show', 'rotate'], {
  error: (issue) => `unknown keys action ${JSON.stringify(issue.input)} (actions: init, show, rotate)`,
});

/** `agenttrail keys init | show | rotate`. */
export async function runKeys(action: string | undefined, options: KeysOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const parsedAction = KeysActionSchema.safeParse(action);
  if (!parsedAction.success) throw new UsageError(action === undefined ? 'keys needs an action: init, show or rotate' : parsedAction.error.issues[0]!.message);
  const config = options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  const path = resolveKeyPath(options.key, config.log.key, env);
  const origin = options.origin ?? config.log.origin;
  switch (parsedAction.data) {
    case 'init': {
      const signer = await createGatewayKey(path, origin);
      process.stderr.write(`agenttrail: created ${path} (keep it secret; mode 0600)\n`);
      process.stdout.write(`${signer.verifierKey}\n`);
      return;
    }
    case 'show':
      process.stdout.write(`${(await readGatewayKey(path)).verifierKey}\n`);
      return;
    case 'rotate':
      await rotateKey(path, origin, resolveDatabase(options.db, config.log, env));
  }
}

/**
 * The new key is written beside the old one first, the rotation is then logged under a checkpoint
 * signed by the old key (so a verifier that trusts the old key learns the new one from the log),
 * and only then does the new key replace the old. A failure at any step leaves a usable key.
 */
async function rotateKey(path: string, origin: string, database: DatabaseOptions): Promise<void> {
  const previous = await readGatewayKey(path);
  const pending = `${path}.new`;
  const next = await createGatewayKey(pending, previous.name);
  try {
    const audit = await openAuditDatabase(database, origin, previous);
    try {
      await assertRotatedLogExists(audit.store, origin);
      await audit.appender.append({
        v: 1,
        time: new Date().toISOString(),
        kind: 'key.rotated',
        session: 'keys',
        agent: { transport: 'cli', user: userInfo().username },
        payload: { previous: previous.verifierKey, next: next.verifierKey },
      });
    } finally {
      await audit.close();
    }
  } catch (error) {
    await rm(pending, { force: true });
    throw error;
  }
  await rename(pending, path);
  process.stderr.write(`agenttrail: rotated ${path}; log "${origin}" records the new key under a checkpoint signed by the old one\n`);
  process.stdout.write(`${next.verifierKey}\n`);
}

/**
 * A rotation logged beside the gateway's log (say, under the default origin because --config was
 * left out) would start a log of its own, and verifiers of the real one could not follow the key.
 */
async function assertRotatedLogExists(store: Store, origin: string): Promise<void> {
  const logs = await store.logs();
  if (logs.length === 0 || logs.includes(origin)) return;
  throw new Error(
    `the database holds no log "${origin}" to record the rotation in (it holds ${logs.map((log) => `"${log}"`).join(', ')}); ` +
      'name the gateway\'s log with --origin or --config',
  );
}
