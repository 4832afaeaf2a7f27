import { z } from 'zod';

/**
 * Sends OTLP/HTTP JSON export requests to a collector, as the OTLP specification asks a client
 * to: POST to the traces URL, retry what the collector says is worth retrying (429, 502, 503,
 * 504, or no answer) with backoff and its Retry-After, and treat spans it reports rejected as a
 * failure, not a success.
 */

export interface OtlpTarget {
  /** The traces endpoint, e.g. http://collector:4318/v1/traces. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The collector did not take the spans; the message says what it answered. */
export class OtlpExportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OtlpExportError';
  }
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

const PartialSuccessSchema = z.looseObject({
  partialSuccess: z.looseObject({ rejectedSpans: z.union([z.string(), z.number()]).optional(), errorMessage: z.string().optional() }).optional(),
});

/**
 * The traces URL for `--endpoint`: a collector's base URL gets the signal path `/v1/traces`
 * (as OTEL_EXPORTER_OTLP_ENDPOINT does); a URL that already ends in it is taken as it is.
 */
export function tracesUrlOf(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected an http(s) URL for the collector, got ${endpoint}`);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/traces`;
  return url.href;
}

export async function postTraces(target: OtlpTarget, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  for (let attempt = 1; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(target.url, { method: 'POST', headers: { ...target.headers, 'content-type': 'application/json' }, body: text });
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS) throw new OtlpExportError(`the collector at ${target.url} did not answer after ${attempt} attempts: ${messageOf(error)}`, { cause: error });
      await pause(backoffMs(attempt, null));
      continue;
    }
    const answer = await response.text();
    if (response.ok) return assertAllAccepted(target, answer);
    if (!RETRYABLE_STATUSES.has(response.status) || attempt >= MAX_ATTEMPTS) {
      throw new OtlpExportError(`the collector at ${target.url} refused the spans: HTTP ${response.status}${answer === '' ? '' : ` ${answer.slice(0, 200)}`}`);
    }
    await pause(backoffMs(attempt, response.headers.get('retry-after')));
  }
}

function assertAllAccepted(target: OtlpTarget, answer: string): void {
  if (answer.trim() === '') return;
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    return; // A collector that answers 200 with something other than JSON took the spans.
  }
  const partial = PartialSuccessSchema.safeParse(json).data?.partialSuccess;
  const rejected = Number(partial?.rejectedSpans ?? 0);
  if (rejected > 0) {
    throw new OtlpExportError(`the collector at ${target.url} rejected ${rejected} spans: ${partial?.errorMessage ?? 'it gave no reason'}`);
  }
}

function backoffMs(attempt: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  const asked = Number.isFinite(seconds) ? seconds * 1000 : FIRST_BACKOFF_MS * 2 ** (attempt - 1);
  return Math.min(MAX_BACKOFF_MS, asked);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}
