/** A stdio server's stdout can no longer be read as a stream of JSON-RPC messages. */
export class CorruptStdoutError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'CorruptStdoutError';
  }
}
