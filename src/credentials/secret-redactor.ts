import { bytesToHex } from '@noble/hashes/utils.js';
import { formatRedactionMarker, redactionCommitment, redactionSalt } from './redaction-marker.js';
import { BUILT_IN_SECRET_DETECTORS } from './secret-detectors.js';
import type { SecretDetector } from './secret-detectors.js';

/** A secret the gateway knows by value, e.g. a credential it hands to an upstream. */
export interface KnownSecret {
  readonly name: string;
  readonly value: string;
}

export interface SecretRedactorOptions {
  /** The per-log secret that keys every marker's salt (see redaction-marker.ts). */
  readonly logSecret: Uint8Array;
  /** Found by value wherever they appear; the marker names them `credential:NAME`. */
  readonly knownSecrets?: readonly KnownSecret[] | undefined;
  /** Configured shapes, after the built-in ones. */
  readonly detectors?: readonly SecretDetector[] | undefined;
}

interface CompiledDetector {
  readonly name: string;
  readonly pattern: RegExp;
  readonly group: string | undefined;
}

/**
 * Replaces secrets in what is about to be recorded with markers that commit to them. It works on
 * a copy: what the agent and the upstream exchange is never changed.
 */
export class SecretRedactor {
  readonly #logSecret: Uint8Array;
  readonly #detectors: readonly CompiledDetector[];
  /** Shorter strings cannot hold a secret any detector finds. */
  readonly #shortest: number;

  constructor(options: SecretRedactorOptions) {
    this.#logSecret = options.logSecret;
    const known = (options.knownSecrets ?? []).filter((secret) => secret.value.length > 0);
    this.#detectors = [
      // Longest first, so a secret that contains another is removed whole.
      ...[...known].sort((a, b) => b.value.length - a.value.length).map((secret) => ({
        name: `credential:${secret.name}`,
        pattern: new RegExp(escapeRegExp(secret.value), 'g'),
        group: undefined,
      })),
      ...[...BUILT_IN_SECRET_DETECTORS, ...(options.detectors ?? [])].map((detector) => ({
        name: detector.name,
        pattern: new RegExp(detector.pattern.source, `g${detector.pattern.flags.replace(/[gy]/g, '')}`),
        group: detector.group,
      })),
    ];
    this.#shortest = Math.min(8, ...known.map((secret) => secret.value.length));
  }

  /** A copy of a JSON value with every secret in its strings (keys included) replaced. */
  redact<T>(value: T): T {
    return this.#redactValue(value) as T;
  }

  /** `text` with every secret replaced by its marker. */
  redactText(text: string): string {
    if (text.length < this.#shortest) return text;
    let redacted = text;
    for (const detector of this.#detectors) {
      redacted = redacted.replace(detector.pattern, (...match: unknown[]) => this.#replace(detector, match));
    }
    return redacted;
  }

  #redactValue(value: unknown): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        const redacted = this.#redactValue(item);
        if (redacted !== item) (copy ??= [...value])[i] = redacted;
      });
      return copy ?? value;
    }
    if (typeof value === 'object' && value !== null) {
      let changed = false;
      const entries = Object.entries(value).map(([key, item]) => {
        const redactedKey = this.redactText(key);
        const redacted = this.#redactValue(item);
        changed ||= redactedKey !== key || redacted !== item;
        return [redactedKey, redacted] as const;
      });
      return changed ? Object.fromEntries(entries) : value;
    }
    return value;
  }

  /** The replacement of one match: the whole match, or only its secret group in its context. */
  #replace(detector: CompiledDetector, match: unknown[]): string {
    const whole = match[0] as string;
    const groups = match.at(-1);
    const secret = detector.group === undefined ? undefined : (groups as Record<string, string | undefined>)[detector.group];
    if (secret === undefined) return this.#marker(detector.name, whole);
    const at = whole.lastIndexOf(secret);
    return whole.slice(0, at) + this.#marker(detector.name, secret) + whole.slice(at + secret.length);
  }

  #marker(detector: string, value: string): string {
    const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    return formatRedactionMarker({ detector, nonce, commitment: redactionCommitment(redactionSalt(this.#logSecret, nonce), value) });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
