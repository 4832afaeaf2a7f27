/** Writes to stdout and waits until it is taken, so a long export into a slow pipe holds one chunk at a time. */
export function writeToStdout(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(chunk, (error) => (error ? reject(error) : resolve())));
}
