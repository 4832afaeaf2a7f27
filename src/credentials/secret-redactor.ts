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

// Tokens obtained at run time (exchanged tokens) are remembered up to this many, the oldest forgotten first.
const MAX_REMEMBERED = 1024;

/**
 * Replaces secrets in what is about to be recorded with markers that commit to them. It works on
 * a copy: what the agent and the upstream exchange is never changed.
 */
export class SecretRedactor {
  readonly #logSecret: Uint8Array;
  readonly #detectors: readonly CompiledDetector[];
  /** True for text in which some detector may find a secret: most recorded strings hold none. */
  readonly #screens: readonly RegExp[];
  /** Value to name, the configured ones first; found wherever they appear. */
  readonly #known = new Map<string, string>();
  readonly #configuredCount: number;
  /** All known values, longest first, so that a secret that contains another is removed whole. */
  #knownPattern: RegExp | undefined;
  /** Shorter strings cannot hold a secret any detector finds. */
  #shortest = 8;

  constructor(options: SecretRedactorOptions) {
    this.#logSecret = options.logSecret;
    for (const secret of options.knownSecrets ?? []) if (secret.value.length > 0) this.#known.set(secret.value, secret.name);
    this.#configuredCount = this.#known.size;
    this.#compileKnown();
    this.#detectors = [...BUILT_IN_SECRET_DETECTORS, ...(options.detectors ?? [])].map((detector) => ({
      name: detector.name,
      pattern: new RegExp(detector.pattern.source, `g${detector.pattern.flags.replace(/[gy]/g, '')}`),
      group: detector.group,
    }));
    this.#screens = compileScreens(this.#detectors);
  }

  /** A secret learnt at run time (a token obtained for an upstream): redacted from now on, like a configured one. */
  remember(secret: KnownSecret): void {
    if (secret.value.length === 0 || this.#known.has(secret.value)) return;
    this.#known.set(secret.value, secret.name);
    if (this.#known.size - this.#configuredCount > MAX_REMEMBERED) {
      const oldestRemembered = [...this.#known.keys()][this.#configuredCount]!;
      this.#known.delete(oldestRemembered);
    }
    this.#compileKnown();
  }

  /** A copy of a JSON value with every secret in its strings (keys included) replaced. */
  redact<T>(value: T): T {
    return this.#redactValue(value) as T;
  }

  /** `text` with every secret replaced by its marker. */
  redactText(text: string): string {
    if (text.length < this.#shortest) return text;
    let redacted = this.#knownPattern === undefined ? text : text.replace(this.#knownPattern, (value) => this.#marker(`credential:${this.#known.get(value)!}`, value));
    if (!this.#screens.some((screen) => screen.test(redacted))) return redacted;
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

  #compileKnown(): void {
    const values = [...this.#known.keys()].sort((a, b) => b.length - a.length);
    this.#knownPattern = values.length === 0 ? undefined : new RegExp(values.map(escapeRegExp).join('|'), 'g');
    this.#shortest = Math.min(8, ...values.map((value) => value.length));
  }

  #marker(detector: string, value: string): string {
    const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    return formatRedactionMarker({ detector, nonce, commitment: redactionCommitment(redactionSalt(this.#logSecret, nonce), value) });
  }
}

/**
 * One test per set of flags that is true wherever one of those detectors matches: a single scan of
 * a string instead of one per detector, which is most of the cost of redacting text that holds no
 * secret. Capture groups become plain groups; a pattern that refers back to its own groups keeps a
 * test of its own, since joined with others its group numbers would change.
 */
function compileScreens(detectors: readonly CompiledDetector[]): RegExp[] {
  const sourcesByFlags = new Map<string, string[]>();
  const screens: RegExp[] = [];
  for (const { pattern } of detectors) {
    const flags = pattern.flags.replace(/[gy]/g, '');
    if (/\\(?:k<|[1-9])/.test(pattern.source)) {
      screens.push(new RegExp(pattern.source, flags));
      continue;
    }
    const sources = sourcesByFlags.get(flags) ?? [];
    sources.push(`(?:${pattern.source.replace(/\(\?<([A-Za-z_$][\w$]*)>/g, '(?:')})`);
    sourcesByFlags.set(flags, sources);
  }
  for (const [flags, sources] of sourcesByFlags) screens.push(new RegExp(sources.join('|'), flags));
  return screens;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
