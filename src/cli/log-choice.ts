import { UsageError } from './usage-error.js';

/** What choosing a log needs to know of a database. */
export interface LogCatalog {
  /** The database URL, redacted, for messages. */
  readonly url: string;
  logs(): Promise<string[]>;
  hasSession(log: string, session: string): Promise<boolean>;
}

/** --log, else the database's only log, else the only one with the session. */
export async function chooseLog(catalog: LogCatalog, log: string | undefined, session: string | undefined): Promise<string> {
  const logs = await catalog.logs();
  if (log !== undefined) {
    if (!logs.includes(log)) throw new Error(`${catalog.url} has no log "${log}" (logs: ${logs.join(', ') || 'none'})`);
    return log;
  }
  if (logs.length === 0) throw new Error(`${catalog.url} holds no log`);
  let candidates = logs;
  if (session !== undefined && logs.length > 1) {
    const holding = await Promise.all(logs.map(async (name) => ((await catalog.hasSession(name, session)) ? name : undefined)));
    candidates = holding.filter((name) => name !== undefined);
    if (candidates.length === 0) throw new Error(`no log in ${catalog.url} has a session "${session}"; agenttrail sessions lists them`);
  }
  if (candidates.length > 1) throw new UsageError(`${catalog.url} holds several logs (${candidates.join(', ')}); choose one with --log ORIGIN`);
  return candidates[0]!;
}
