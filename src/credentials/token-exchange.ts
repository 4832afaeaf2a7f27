import { z } from 'zod';
import type { TokenExchangeConfig } from '../config/config-schema.js';

/** An upstream token the token endpoint issued for one subject. */
export interface ExchangedToken {
  readonly value: string;
  /** Milliseconds since the epoch; undefined when the endpoint gave no expires_in. */
  readonly expiresAt?: number | undefined;
  /** What the token allows: the endpoint's scope, else the one asked for. */
  readonly scope?: string | undefined;
}

/** The subject on whose behalf a token is asked for (RFC 8693 subject_token and its type). */
export interface Subject {
  readonly token: string;
  readonly type: string;
}

/** Why no token was issued, in words that name no secret (the endpoint's own description is quoted). */
export class TokenExchangeError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'TokenExchangeError';
  }
}

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const MAX_QUOTED_CHARS = 200;
// A token is reused until shortly before it expires, so that no call goes out with one that lapses on the way.
const REFRESH_MARGIN_MS = 30_000;

const IssuedTokenSchema = z.looseObject({
  access_token: z.string().min(1, 'an empty access_token'),
  expires_in: z.union([z.number().positive(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  scope: z.string().optional(),
});

const ErrorAnswerSchema = z.looseObject({ error: z.string(), error_description: z.string().optional() });

/**
 * Obtains upstream tokens from one token endpoint, reusing each subject's token until shortly
 * before it expires. Calls that need the same subject's token at once share one request; a
 * failure is not kept, so the next call asks again.
 */
export class TokenExchanger {
  readonly #tokens = new Map<string, { token: Promise<ExchangedToken>; reuseUntil: number }>();

  constructor(
    private readonly settings: TokenExchangeConfig,
    private readonly clientSecret: string,
    private readonly fetchToken: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  tokenFor(subject: Subject): Promise<ExchangedToken> {
    const key = `${subject.type}\n${subject.token}`;
    const kept = this.#tokens.get(key);
    if (kept !== undefined && kept.reuseUntil > this.now()) return kept.token;
    this.#forgetLapsed();
    const entry = { token: this.#request(subject), reuseUntil: Number.POSITIVE_INFINITY };
    this.#tokens.set(key, entry);
    entry.token.then(
      (token) => {
        const lifetime = token.expiresAt === undefined ? 0 : token.expiresAt - this.now();
        entry.reuseUntil = this.now() + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
      },
      () => {
        if (this.#tokens.get(key) === entry) this.#tokens.delete(key);
      },
    );
    return entry.token;
  }

  #forgetLapsed(): void {
    const now = this.now();
    for (const [key, entry] of this.#tokens) if (entry.reuseUntil <= now) this.#tokens.delete(key);
  }

  async #request(subject: Subject): Promise<ExchangedToken> {
    const { endpoint, clientId, clientAuthentication, audience, resource, scope, requestedTokenType, timeoutMs } = this.settings;
    const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject.token, subject_token_type: subject.type });
    if (audience !== undefined) form.set('audience', audience);
    if (resource !== undefined) form.set('resource', resource);
    if (scope !== undefined) form.set('scope', scope);
    if (requestedTokenType !== undefined) form.set('requested_token_type', requestedTokenType);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (clientAuthentication === 'basic') {
      // RFC 6749 section 2.3.1: id and secret are form-encoded before they are joined.
      headers.authorization = `Basic ${btoa(`${formEncoded(clientId)}:${formEncoded(this.clientSecret)}`)}`;
    } else {
      form.set('client_id', clientId);
      form.set('client_secret', this.clientSecret);
    }
    const asked = this.now();
    let response: Response;
    let body: string;
    try {
      response = await this.fetchToken(endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(timeoutMs) });
      body = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') throw new TokenExchangeError(`the token endpoint did not answer within ${timeoutMs} ms`, { cause: error });
      throw new TokenExchangeError(`the token endpoint cannot be reached (${describeFetchFailure(error)})`, { cause: error });
    }
    const json = parseJson(body);
    if (!response.ok) {
      const refusal = ErrorAnswerSchema.safeParse(json);
      if (!refusal.success) throw new TokenExchangeError(`the token endpoint answered HTTP ${response.status} without an OAuth error`);
      const description = refusal.data.error_description === undefined ? '' : `: ${quoted(refusal.data.error_description)}`;
      throw new TokenExchangeError(`the token endpoint refused the exchange (HTTP ${response.status}, ${quoted(refusal.data.error)}${description})`);
    }
    if (json === undefined) throw new TokenExchangeError('the token endpoint\'s answer is not JSON');
    const issued = IssuedTokenSchema.safeParse(json);
    if (!issued.success) throw new TokenExchangeError(`the token endpoint's answer holds no usable access_token (${issued.error.issues[0]!.message})`);
    const { access_token, expires_in, scope: grantedScope } = issued.data;
    return { value: access_token, expiresAt: expires_in === undefined ? undefined : asked + expires_in * 1000, scope: grantedScope ?? scope };
  }
}

function formEncoded(text: string): string {
  return new URLSearchParams([['', text]]).toString().slice(1);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function quoted(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 3)}...` : line;
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS failure) is in its cause. */
function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
