/**
 * Passes everything this process writes on stderr through `redact`. What the operator reads there
 * quotes upstreams: their own stderr lines, and the gateway's reports of what failed, which repeat
 * an upstream's error or last output; any of them may hold a credential the upstream was given.
 */
export function redactStderr(redact: (text: string) => string): void {
  const write = process.stderr.write.bind(process.stderr) as (chunk: string, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    write(redact(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), ...rest)) as typeof process.stderr.write;
}
