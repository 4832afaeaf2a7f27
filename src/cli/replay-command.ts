import { z } from 'zod';
import { loadConfigFile } from '../config/load-config-file.js';
import { readRecordedToolSession } from '../review/recorded-tool-calls.js';
import type { RecordedToolSession } from '../review/recorded-tool-calls.js';
import { chooseLog } from './log-choice.js';
import { countVerdicts, rerunRecording } from './replay-rerun.js';
import type { Rerun, RerunOutcome } from './replay-rerun.js';
import { serveReplay } from './replay-serve.js';
import { openReviewDatabase } from './review-database.js';
import type { ReviewDatabase } from './review-database.js';
import { UsageError } from './usage-error.js';

export const ReplayOptionsSchema = z.strictObject({
  serve: z.boolean().default(false),
  rerun: z.boolean().default(false),
  db: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  port: z.coerce.number<string>().int().min(0).max(65_535, 'expected a port from 0 to 65535').optional(),
  config: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  'allow-side-effects': z.boolean().default(false),
  json: z.boolean().default(false),
});
export type ReplayOptions = z.infer<typeof ReplayOptionsSchema>;

const RERUN_ONLY = ['config', 'key', 'allow-side-effects', 'json'] as const;
// Arguments in the rerun table are cut here; --json has them whole.
const ARGUMENT_CHARS = 120;

/**
 * `agenttrail replay SESSION --serve | --rerun`. Resolves true when done (--serve) or when every
 * call that ran again gave what was recorded (--rerun); false when one differs or was refused.
 */
export async function runReplay(session: string, options: ReplayOptions, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (options.serve === options.rerun) {
    throw new UsageError(
      options.serve
        ? '--serve and --rerun exclude each other'
        : 'replay needs --serve (answer an agent with the recorded results) or --rerun --config FILE (run the recorded calls again)',
    );
  }
  if (options.serve) {
    const misplaced = RERUN_ONLY.find((flag) => options[flag] !== undefined && options[flag] !== false);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} goes with --rerun, not --serve`);
    const database = await openReviewDatabase(options.db, env, 'read');
    const recording = await readRecording(database, session, options.log).finally(() => database.close());
    await serveReplay(recording, options.port);
    return true;
  }
  if (options.port !== undefined) throw new UsageError('--port goes with --serve, not --rerun');
  const { config } = await loadConfigFile(options.config ?? 'agenttrail.yaml', env);
  // The recorded session is read where the rerun is recorded: --db, else $AGENTTRAIL_DB, else the config's log.db.
  const database = await openReviewDatabase(options.db ?? env.AGENTTRAIL_DB ?? config.log.db, env, 'read');
  try {
    const recording = await readRecording(database, session, options.log);
    const rerun = await rerunRecording(config, recording, database, { db: options.db, key: options.key, allowSideEffects: options['allow-side-effects'] }, env);
    const counts = countVerdicts(rerun.outcomes);
    process.stdout.write(options.json ? `${JSON.stringify(rerunDocument(database.url, recording, rerun))}\n` : describeRerun(recording, rerun));
    return counts.different === 0 && counts.refused === 0;
  } finally {
    database.close();
  }
}

async function readRecording(database: ReviewDatabase, session: string, logFlag: string | undefined): Promise<RecordedToolSession> {
  const log = await chooseLog(database, logFlag, session);
  if (!(await database.hasSession(log, session))) {
    throw new Error(`log "${log}" in ${database.url} has no session "${session}"; agenttrail sessions lists the sessions it has`);
  }
  const recording = await readRecordedToolSession(database.client, log, session);
  if (recording.calls.length === 0 && recording.tools.length === 0) {
    throw new Error(`session "${session}" of log "${log}" holds no tools/list result and no tool call: there is nothing to replay`);
  }
  return recording;
}

function rerunDocument(url: string, recording: RecordedToolSession, rerun: Rerun) {
  return {
    database: url,
    log: recording.log,
    session: recording.session,
    rerun: { log: rerun.log, session: rerun.session },
    counts: countVerdicts(rerun.outcomes),
    calls: rerun.outcomes.map(({ recorded, name, verdict, rerunIndex }) => ({
      index: recorded.index,
      name,
      arguments: recorded.arguments ?? null,
      ...verdict,
      ...(rerunIndex === undefined ? {} : { rerunIndex }),
    })),
  };
}

function describeRerun(recording: RecordedToolSession, rerun: Rerun): string {
  const counts = countVerdicts(rerun.outcomes);
  const lines = [
    `rerun of session ${recording.session} (log ${recording.log}, ${recording.calls.length} tool calls) recorded as session ${rerun.session} of log ${rerun.log}`,
    '',
    ...rerun.outcomes.flatMap(describeOutcome),
    '',
    `${counts.same} same, ${counts.different} different, ${counts.refused} refused, ${counts.skipped} skipped; agenttrail show ${rerun.session} reads the rerun`,
  ];
  return `${lines.join('\n')}\n`;
}

function describeOutcome({ recorded, name, verdict }: RerunOutcome): string[] {
  const head = `${verdict.status === 'same' || verdict.status === 'skipped' ? verdict.status : verdict.status.toUpperCase()}`.padEnd(10);
  const call = `${head} entry ${recorded.index}  ${name} ${clip(recorded.arguments === undefined ? '(arguments removed by retention)' : JSON.stringify(recorded.arguments))}`;
  switch (verdict.status) {
    case 'same':
      return [call];
    case 'different':
      return [call, ...verdict.diff.map((line) => `           ${line}`)];
    case 'refused':
    case 'skipped':
      return [`${call}: ${verdict.reason}`];
  }
}

function clip(text: string): string {
  return text.length <= ARGUMENT_CHARS ? text : `${text.slice(0, ARGUMENT_CHARS)}…`;
}
