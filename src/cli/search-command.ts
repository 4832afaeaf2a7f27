import { z } from 'zod';
import { catchUpSearchIndex, searchEntries } from '../review/search-index.js';
import type { SearchResults } from '../review/search-index.js';
import { chooseLog } from './log-choice.js';
import { openReviewDatabase } from './review-database.js';
import { writeToStdout } from './standard-output.js';
import { UsageError } from './usage-error.js';

export const SearchOptionsSchema = z.strictObject({
  db: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(50),
  json: z.boolean().default(false),
});
export type SearchOptions = z.infer<typeof SearchOptionsSchema>;

/** `agenttrail search TEXT`: the newest entries whose payloads hold every word of TEXT. */
export async function runSearch(words: readonly string[], options: SearchOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const text = words.join(' ').trim();
  if (text === '' || text === '*') throw new UsageError('search needs TEXT: the words to look for');
  const database = await openReviewDatabase(options.db, env, 'index');
  try {
    const log = await chooseLog(database, options.log, undefined);
    const progress = !options.json && process.stderr.isTTY === true;
    const indexed = await catchUpSearchIndex(database.client, log, (count) => {
      if (progress) process.stderr.write(`\r\u001b[2Kindexing ${log}: ${count} new entries`);
    });
    if (progress && indexed > 0) process.stderr.write('\r\u001b[2K');
    const results = await searchEntries(database.client, log, text, options.limit);
    const report = { database: database.url, log, query: text, total: results.total, hits: results.hits };
    await writeToStdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : describeResults(results, text, log));
  } finally {
    database.close();
  }
}

function describeResults(results: SearchResults, text: string, log: string): string {
  if (results.total === 0) return `no entry of log ${log} holds ${JSON.stringify(text)}\n`;
  const shown = results.hits.length < results.total ? ` (the newest ${results.hits.length}; --limit N shows more)` : '';
  const lines = [`${results.total} entr${results.total === 1 ? 'y' : 'ies'} of log ${log} hold ${JSON.stringify(text)}${shown}`, ''];
  for (const hit of results.hits) {
    lines.push(`${hit.time}  entry ${hit.index}  ${hit.kind}${hit.name === null ? '' : ` ${hit.name}`}  session ${hit.session}`);
    lines.push(`    ${hit.excerpt}`);
  }
  lines.push('', 'agenttrail show SESSION puts an entry in its timeline');
  return `${lines.join('\n')}\n`;
}
