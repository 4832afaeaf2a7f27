import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { defaultConfig } from '../config/config-schema.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { knownSecretsOf, readCredentials } from '../credentials/credential-sources.js';
import { redactingSink } from '../credentials/redacting-sink.js';
import { SecretRedactor } from '../credentials/secret-redactor.js';
import type { AgentIdentity, Entry } from '../ledger/entry.js';
import { eventProblem, EventSourceSchema, EXTERNAL_EVENT_KIND, EXTERNAL_REFUSED_KIND, externalEventRecord, ExternalEventSchema, INGEST_REFUSALS_SESSION } from '../review/external-event.js';
import type { ExternalEvent } from '../review/external-event.js';
import { primaryDatabase } from '../store/database-connection.js';
import { openAuditDatabase, resolveDatabase, resolveDatabaseUrl } from './audit-database.js';
import { assertDatabaseExists } from './existing-database.js';
import { readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { loadOrCreateLogSecret, resolveLogSecretPath } from './log-secret.js';
import { nodeSecretReader } from './node-secret-reader.js';

export const IngestOptionsSchema = z.strictObject({
  source: EventSourceSchema.optional(),
  config: z.string().min(1).optional(),
  db: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  json: z.boolean().default(false),
});
export type IngestOptions = z.infer<typeof IngestOptionsSchema>;

/** One line of the file that is no event, and why. */
interface LineProblem {
  readonly line: number;
  readonly reason: string;
}

// A refusal entry names this many bad lines; the count says how many there were.
const MAX_RECORDED_PROBLEMS = 100;
// Entries handed to the log's writer at once: its group commits take them a batch at a time.
const APPEND_BATCH = 1000;

/**
 * `agenttrail ingest FILE.jsonl`: appends the events of a JSON Lines file (`-`: standard input)
 * to the log as `external.event` entries, redacted as the gateway redacts what it records. All or
 * nothing: a file with a line that is no valid event records none of its events, only the refusal
 * (an `external.refused` entry naming the bad lines), and the command fails with each line's reason.
 */
export async function runIngest(file: string, options: IngestOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const config = options.config === undefined ? defaultConfig() : (await loadConfigFile(options.config, env, { requireServers: false })).config;
  const content = file === '-' ? await text(process.stdin) : await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `no file ${file}` : `cannot read ${file}: ${error.message}`, { cause: error });
  });
  const { events, problems } = parseEventLines(content, options.source);
  const origin = config.log.origin;
  await assertDatabaseExists(resolveDatabaseUrl(options.db, config.log.db, env));
  const keyPath = resolveKeyPath(options.key, config.log.key, env);
  // The key must exist already: the entries extend the gateway's log under its key.
  const signer = await readGatewayKey(keyPath);
  const redactor = await ingestRedactor(config, keyPath, env);
  const database = await openAuditDatabase(primaryDatabase(resolveDatabase(options.db, config.log, env)), origin, signer);
  try {
    const sink = redactingSink(database.appender, redactor);
    const agent: AgentIdentity = { transport: 'cli', user: userInfo().username };
    const record = (kind: string, session: string, payload: unknown) => sink.append({ v: 1, time: new Date().toISOString(), kind, session, agent, payload });
    if (problems.length > 0) {
      const refusal = await record(EXTERNAL_REFUSED_KIND, INGEST_REFUSALS_SESSION, {
        file,
        reason: `${problems.length} lines are no valid events; none of the file's events was recorded`,
        lines: problems.slice(0, MAX_RECORDED_PROBLEMS),
      });
      for (const { line, reason } of problems) process.stderr.write(`${file}:${line}: ${reason}\n`);
      throw new Error(`${file}: ${problems.length} of ${problems.length + events.length} events are invalid (listed above), so none was recorded; the refusal is entry ${refusal.index} of log "${origin}"`);
    }
    const appended: Entry[] = [];
    for (let start = 0; start < events.length; start += APPEND_BATCH) {
      const batch = events.slice(start, start + APPEND_BATCH).map(externalEventRecord);
      appended.push(...(await Promise.all(batch.map(({ session, payload }) => record(EXTERNAL_EVENT_KIND, session, payload)))));
    }
    const sessions = [...new Set(appended.map((entry) => entry.session))];
    const range = appended.length === 0 ? null : { first: appended[0]!.index, last: appended.at(-1)!.index };
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ log: origin, file, accepted: appended.length, entries: range, sessions })}\n`
        : range === null
          ? `${file} holds no events; nothing was recorded\n`
          : `recorded ${appended.length} events of ${file} in log ${origin} (entries ${range.first} to ${range.last}; sessions ${sessions.join(', ')})\n`,
    );
  } finally {
    await database.close();
  }
}

/**
 * The events of a JSON Lines text, and the lines that are none. Blank lines are skipped. `source`
 * (--source) is the source of every event: a line may leave it out, or name the same.
 */
function parseEventLines(content: string, source: string | undefined): { events: ExternalEvent[]; problems: LineProblem[] } {
  const events: ExternalEvent[] = [];
  const problems: LineProblem[] = [];
  content.split('\n').forEach((text, at) => {
    if (text.trim() === '') return;
    const line = at + 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      problems.push({ line, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` });
      return;
    }
    const claimed = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)['source'] : undefined;
    if (source !== undefined && claimed !== undefined && claimed !== source) {
      problems.push({ line, reason: `the event's source ${JSON.stringify(claimed)} is not --source ${source}` });
      return;
    }
    const event = ExternalEventSchema.safeParse(source === undefined || claimed !== undefined ? value : { ...(value as object), source });
    if (event.success) events.push(event.data);
    else problems.push({ line, reason: eventProblem(event.error) });
  });
  return { events, problems };
}

/**
 * What the gateway does to an entry before it records it: the configured credentials, the
 * configured secret shapes and the built-in ones are redacted, under the log's own secret.
 */
async function ingestRedactor(config: GatewayConfig, keyPath: string, env: NodeJS.ProcessEnv): Promise<SecretRedactor> {
  const logSecret = await loadOrCreateLogSecret(resolveLogSecretPath(config.log.secret, keyPath));
  const secrets = await readCredentials(config.credentials, nodeSecretReader(env));
  return new SecretRedactor({
    logSecret,
    knownSecrets: knownSecretsOf(secrets),
    detectors: config.redaction.patterns.map(({ name, pattern }) => ({ name, pattern: new RegExp(pattern) })),
  });
}
