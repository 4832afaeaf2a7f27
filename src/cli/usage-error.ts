/** A mistake on the command line: exit code 2, a one-line reason, and a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
