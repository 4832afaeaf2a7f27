/**
 * The message of a database error, with what lies under a remote client's bare "fetch failed"
 * (connect ECONNREFUSED 127.0.0.1:8080, ...): the part a user can act on.
 */
export function databaseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (message === 'fetch failed' && cause instanceof Error) {
    return `cannot reach the database server: ${cause.message}`;
  }
  return message;
}
