import { parseJSONRPCMessage, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { CorruptStdoutError } from './corrupt-stdout-error.js';

const NEWLINE = 0x0a;
const EXCERPT_CHARS = 80;
const STRAY_LINE_CHARS = 500;

export interface StdioMessageReaderOptions {
  /** A line (or an unfinished one) longer than this corrupts the stream: memory stays bounded. */
  maxLineBytes: number;
  /** A line that is no message and does not pretend to be one, e.g. a banner a server printed. */
  onStrayLine(line: string): void;
  /** Called once; everything the server writes afterwards is discarded. */
  onCorrupt(error: CorruptStdoutError): void;
}

/**
 * Splits a stdio server's stdout into JSON-RPC messages, one per line (the MCP stdio framing).
 *
 * Lines that are no message and do not pretend to be one are passed on as diagnostics: servers print
 * them by mistake (banners, `console.log`, nodemon's `[nodemon] ...`, JSON log lines from loggers
 * such as pino), the framing survives them, no answer is lost, and SDK clients tolerate them too, so
 * a server that works when started directly keeps working behind the gateway. A line that starts
 * with `{` but is not valid JSON, or JSON with a `jsonrpc` member that is no valid message, is an
 * answer or request cut off or garbled: which call it belonged to is unknown, and a server that
 * writes such lines cannot be trusted to stay in sync, so the stream is declared corrupt. So is a
 * line longer than the limit, which also keeps memory bounded.
 *
 * Same contract as the SDK's ReadBuffer (`append`, `readMessage`, `clear`), which skips every
 * non-JSON line in silence and lets a line grow until its 10 MiB buffer limit.
 */
export class StdioMessageReader {
  /** Pieces of the line not finished yet, kept apart so that a long line is copied once, not per chunk. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #lines: Buffer[] = [];
  /** Set when a line outgrew the limit; reported after the lines before it were read, in stream order. */
  #overflow: string | undefined;
  #corrupt = false;

  constructor(private readonly options: StdioMessageReaderOptions) {}

  append(chunk: Buffer): void {
    if (this.#corrupt || this.#overflow !== undefined) return;
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (!this.fits(end - start)) return this.overflow(chunk.subarray(start, end));
      this.#lines.push(this.#partial.length === 0 ? chunk.subarray(start, end) : Buffer.concat([...this.#partial, chunk.subarray(start, end)]));
      this.#partial = [];
      this.#partialBytes = 0;
      start = end + 1;
    }
    if (start === chunk.length) return;
    if (!this.fits(chunk.length - start)) return this.overflow(chunk.subarray(start));
    this.#partial.push(chunk.subarray(start));
    this.#partialBytes += chunk.length - start;
  }

  readMessage(): JSONRPCMessage | null {
    for (let line = this.#lines.shift(); line !== undefined && !this.#corrupt; line = this.#lines.shift()) {
      const message = this.parse(line.toString('utf8').replace(/\r$/, ''), line.length);
      if (message !== undefined) return message;
    }
    if (this.#overflow !== undefined && !this.#corrupt) this.corrupt(this.#overflow);
    return null;
  }

  clear(): void {
    this.#partial = [];
    this.#partialBytes = 0;
    this.#lines = [];
  }

  private parse(line: string, bytes: number): JSONRPCMessage | undefined {
    const trimmed = line.trimStart();
    if (trimmed === '') return undefined;
    if (!trimmed.startsWith('{')) {
      this.stray(line, bytes);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return this.corrupt(`a line that is not valid JSON (${bytes} bytes): ${excerpt(line)}`);
    }
    if (typeof value !== 'object' || value === null || !('jsonrpc' in value)) {
      this.stray(line, bytes);
      return undefined;
    }
    try {
      return parseJSONRPCMessage(value);
    } catch {
      return this.corrupt(`JSON that is no JSON-RPC 2.0 request, notification or response (${bytes} bytes): ${excerpt(line)}`);
    }
  }

  private stray(line: string, bytes: number): void {
    this.options.onStrayLine(line.length > STRAY_LINE_CHARS ? `${line.slice(0, STRAY_LINE_CHARS)}… (${bytes} bytes)` : line);
  }

  private fits(moreBytes: number): boolean {
    return this.#partialBytes + moreBytes <= this.options.maxLineBytes;
  }

  private overflow(last: Buffer): void {
    const start = (this.#partial[0] ?? last).subarray(0, EXCERPT_CHARS * 4).toString('utf8');
    this.#overflow = `a line longer than ${this.options.maxLineBytes} bytes: ${excerpt(start)}`;
    this.#partial = [];
    this.#partialBytes = 0;
  }

  private corrupt(detail: string): undefined {
    this.#corrupt = true;
    this.clear();
    this.options.onCorrupt(new CorruptStdoutError(detail));
    return undefined;
  }
}

/**
 * The start of a line, quoted, as printable ASCII: what the server wrote may hold control
 * characters or bidirectional overrides that must not reach an agent's or a reviewer's screen.
 */
function excerpt(line: string): string {
  const shown = line.slice(0, EXCERPT_CHARS);
  const escaped = shown.replace(/[^\x20-\x7e]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${escaped}${shown.length < line.length ? '…' : ''}'`;
}
