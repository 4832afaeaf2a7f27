import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isInMemoryUrl } from '../store/database-connection.js';

/** Opening a database creates it; a command that only reads one must say it is not there instead. */
export async function assertDatabaseExists(url: string): Promise<void> {
  if (!url.startsWith('file:') || isInMemoryUrl(url)) return;
  const location = url.slice('file:'.length).replace(/[?#].*$/, '');
  const path = location.startsWith('//') ? fileURLToPath(`file:${location}`) : location;
  try {
    await access(path);
  } catch (error) {
    throw new Error(`no audit database at ${path}; name it with --db URL or $AGENTTRAIL_DB`, { cause: error });
  }
}
