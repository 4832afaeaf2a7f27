import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import type { ApprovalAnnouncer, ApprovalNotice } from './approval-notice.js';

export const WEBHOOK_BODY_TYPE = 'agenttrail.approval-request/v1';

/** One delivery attempt, as the log records it (entry `approval.notification`). */
export interface DeliveryAttempt {
  readonly request: string;
  readonly channel: 'webhook';
  /** Scheme, host and port of the receiver only: a chat webhook's path and query are its secret. */
  readonly receiver: string;
  /** The same for every attempt of one delivery (X-AgentTrail-Delivery), so a receiver can drop repeats. */
  readonly delivery: string;
  readonly attempt: number;
  readonly outcome: 'delivered' | 'failed';
  readonly status?: number;
  readonly error?: string;
  /** When the next attempt follows; absent when none does. */
  readonly retryInMs?: number;
}

export interface ApprovalWebhookOptions {
  readonly url: string;
  /** Key of the HMAC-SHA256 signature; without it deliveries are unsigned. */
  readonly secret?: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
  /** The log (checkpoint origin) that holds the requests. */
  readonly log: string;
  /** Records an attempt; a failure to record is reported, and the delivery goes on. */
  record(notice: ApprovalNotice, attempt: DeliveryAttempt): Promise<void>;
  /** Whether the request still waits: one decided or expired is not announced again. */
  stillWaiting(id: string): boolean;
  /** Where what goes wrong is said (the operator's terminal). */
  report(line: string): void;
  /** The pause before retry `n` (1, 2, ...). */
  backoffMs?: (retry: number) => number;
}

const MAX_BACKOFF_MS = 60_000;

/** 1 s, 2 s, 4 s, ... up to a minute. */
function exponentialBackoff(retry: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (retry - 1));
}

/**
 * Announces each new approval request with a JSON POST to one URL, for chat or paging. A delivery
 * that fails (no answer in time, a network error, 408, 425, 429 or a 5xx) is tried again with
 * exponential backoff while the request still waits; any other answer is final. Every attempt is
 * recorded. When a secret is configured, `X-AgentTrail-Signature: sha256=HEX` is the HMAC-SHA256 of
 * `TIMESTAMP.BODY` under it, with TIMESTAMP from `X-AgentTrail-Timestamp` (Unix seconds), so a
 * receiver can refuse forged and replayed deliveries.
 */
export class ApprovalWebhook implements ApprovalAnnouncer {
  readonly #closing = new AbortController();
  readonly #deliveries = new Set<Promise<void>>();
  readonly #receiver: string;
  readonly #secret: Uint8Array | undefined;

  constructor(private readonly options: ApprovalWebhookOptions) {
    this.#receiver = new URL(options.url).origin;
    this.#secret = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
  }

  announce(notice: ApprovalNotice): void {
    if (this.#closing.signal.aborted) return;
    const delivery = this.#deliver(notice)
      .catch((error: unknown) => this.options.report(`agenttrail: approval webhook for request ${notice.id}: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => this.#deliveries.delete(delivery));
    this.#deliveries.add(delivery);
  }

  /** Ends the pauses between retries and the attempts under way; resolves once their outcomes are recorded. */
  async close(): Promise<void> {
    this.#closing.abort(new Error('the gateway is shutting down'));
    await Promise.all(this.#deliveries);
  }

  async #deliver(notice: ApprovalNotice): Promise<void> {
    const body = JSON.stringify(webhookBody(notice, this.options.log));
    const delivery = crypto.randomUUID();
    const backoff = this.options.backoffMs ?? exponentialBackoff;
    for (let attempt = 1; ; attempt++) {
      const { outcome, retryable } = await this.#attempt(body, delivery);
      const retryInMs = retryable && attempt <= this.options.retries && !this.#closing.signal.aborted ? backoff(attempt) : undefined;
      await this.options
        .record(notice, { request: notice.id, channel: 'webhook', receiver: this.#receiver, delivery, attempt, ...outcome, ...(retryInMs === undefined ? {} : { retryInMs }) })
        .catch((error: unknown) => this.options.report(`agenttrail: cannot record webhook delivery ${attempt} for request ${notice.id}: ${error instanceof Error ? error.message : String(error)}`));
      if (retryInMs === undefined) return;
      await pause(retryInMs, this.#closing.signal);
      if (this.#closing.signal.aborted || !this.options.stillWaiting(notice.id)) return;
    }
  }

  async #attempt(body: string, delivery: string): Promise<{ outcome: Pick<DeliveryAttempt, 'outcome' | 'status' | 'error'>; retryable: boolean }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `agenttrail/${AGENTTRAIL_VERSION}`,
      'x-agenttrail-delivery': delivery,
      'x-agenttrail-timestamp': timestamp,
    };
    if (this.#secret !== undefined) {
      headers['x-agenttrail-signature'] = `sha256=${bytesToHex(hmac(sha256, this.#secret, new TextEncoder().encode(`${timestamp}.${body}`)))}`;
    }
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.#closing.signal]),
      });
      // Only the status matters; the body is read to free the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { outcome: { outcome: 'delivered', status: response.status }, retryable: false };
      const error = `the receiver answered ${response.status} ${response.statusText}`.trim();
      return { outcome: { outcome: 'failed', status: response.status, error }, retryable: isRetryableStatus(response.status) };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${this.options.timeoutMs} ms` : describeFetchError(error);
      return { outcome: { outcome: 'failed', error: reason }, retryable: true };
    }
  }
}

/** What the receiver gets: the request, and how to decide it. */
function webhookBody(notice: ApprovalNotice, log: string) {
  return {
    type: WEBHOOK_BODY_TYPE,
    log,
    id: notice.id,
    agent: notice.agent,
    server: notice.server,
    tool: notice.tool,
    argsHash: notice.argsHash,
    policyVersion: notice.policyVersion,
    rule: notice.rule,
    approvers: notice.approvers,
    count: notice.count,
    expires: notice.expires,
    clientUser: notice.clientUser,
    decide: {
      cli: [`agenttrail approvals approve ${notice.id} --key FILE`, `agenttrail approvals deny ${notice.id} --key FILE --reason TEXT`],
      api: { read: `GET /v1/approvals/${notice.id}`, decide: `POST /v1/approvals/${notice.id}/decision` },
    },
  };
}

/** A timeout, too many requests, or the receiver's own trouble: worth another try. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function describeFetchError(error: unknown): string {
  // fetch says "fetch failed" and keeps the reason (ECONNREFUSED, a DNS failure) in its cause.
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return detail === undefined ? message : `${message} (${detail})`;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
