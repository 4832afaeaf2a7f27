/** How often an idle SSE response gets a comment, so that proxies do not close it (the SDK's default). */
const KEEP_ALIVE_MS = 15_000;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/**
 * How much an agent may leave unread on one stream. An agent that reads nothing would otherwise
 * have every message queued for it, without bound; once this much waits, the stream ends after what
 * is queued (the session keeps the messages, see SessionEventStore) and the agent's client resumes
 * with Last-Event-ID. Above the session's own bound, so that a resumed stream fits.
 */
const UNREAD_BYTES_LIMIT = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** One open `text/event-stream` response: what is sent on it reaches the agent at once. */
export class EventStreamResponse {
  readonly response: Response;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #keepAlive: ReturnType<typeof setInterval>;
  #open = true;

  /** `onCancel` runs when the agent goes away (the body is cancelled), not when `close` is called. */
  constructor(headers: Record<string, string>, onCancel: () => void) {
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => {
          this.#stop();
          onCancel();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: UNREAD_BYTES_LIMIT }),
    );
    this.response = new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
    this.#keepAlive = setInterval(() => this.#write(': keepalive\n\n'), KEEP_ALIVE_MS);
  }

  get open(): boolean {
    return this.#open;
  }

  /** A message as an event; without `json` an event that only carries its id (a resume point). */
  send(id: string | undefined, json?: string): void {
    let text = json === undefined ? '' : 'event: message\n';
    if (id !== undefined) text += `id: ${id}\n`;
    this.#write(`${text}data: ${json ?? ''}\n\n`);
  }

  close(): void {
    if (!this.#open) return;
    this.#stop();
    try {
      this.#controller?.close();
    } catch {
      // Already closed by the runtime: nothing left to end.
    }
  }

  #write(text: string): void {
    if (!this.#open) return;
    // desiredSize is what the limit leaves of it: the agent has read nothing of the last UNREAD_BYTES_LIMIT.
    if ((this.#controller?.desiredSize ?? 1) <= 0) {
      this.close();
      return;
    }
    try {
      this.#controller?.enqueue(encoder.encode(text));
    } catch {
      this.#stop();
    }
  }

  #stop(): void {
    this.#open = false;
    clearInterval(this.#keepAlive);
  }
}
