import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/client';
import { StdioClientTransport, type StdioServerParameters } from '@modelcontextprotocol/client/stdio';
import type { CorruptStdoutError } from './corrupt-stdout-error.js';
import { StdioMessageReader } from './stdio-message-reader.js';

/**
 * The SDK's stdio client transport (spawning, cross-platform command lookup, the stdin-EOF, SIGTERM,
 * SIGKILL shutdown), reading the server's stdout with a StdioMessageReader: a corrupt protocol stream
 * ends the connection at once, instead of leaving the calls in flight to wait for their timeout.
 */
export class CheckedStdioTransport extends StdioClientTransport {
  constructor(server: StdioServerParameters, onStrayLine: (line: string) => void) {
    super(server);
    const reader = new StdioMessageReader({
      maxLineBytes: server.maxBufferSize ?? STDIO_DEFAULT_MAX_BUFFER_SIZE,
      onStrayLine,
      onCorrupt: (error) => this.abandon(error),
    });
    // The SDK (2.4) offers no way to pass a reader; its private `_readBuffer` is the seam. Fail
    // loudly should a later SDK rename it, rather than fall back to skipping bad lines in silence.
    if (!('_readBuffer' in this)) throw new Error('@modelcontextprotocol/client: StdioClientTransport has no _readBuffer; update CheckedStdioTransport');
    (this as unknown as { _readBuffer: StdioMessageReader })._readBuffer = reader;
  }

  /**
   * The SDK reports the end only when the process has exited, which for a server that ignores stdin
   * EOF and SIGTERM takes 4 s; the calls waiting on this connection are told now, once.
   */
  override async close(): Promise<void> {
    const onclose = this.pid === null ? undefined : this.onclose;
    if (onclose) this.onclose = undefined;
    onclose?.();
    await super.close();
  }

  private abandon(error: CorruptStdoutError): void {
    this.onerror?.(error);
    this.close().catch(() => undefined);
  }
}
