/**
 * The message of a database error, with what lies under a remote client's bare "fetch failed"
 * (connect ECONNREFUSED 127.0.0.1:8080, ...): the part a user can act on. SQLite says "database or
 * disk is full" for both a full disk and its own page limit; on a gateway it is nearly always the disk.
 */
export function databaseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (message === 'fetch failed' && cause instanceof Error) {
    return `cannot reach the database server: ${cause.message}`;
  }
  if (isDiskFull(error, message)) {
    return `${message} (disk full: free space on the disk that holds the audit database)`;
  }
  return message;
}

function isDiskFull(error: unknown, message: string): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'SQLITE_FULL' || /\bdatabase or disk is full\b/i.test(message);
}
