// Durations in policy files are written as a number and a unit ("30s", "15m", "1h", "7d"): easier
// to read in a review than milliseconds, and unambiguous, unlike ISO 8601's "PT15M" and "P1M".

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const UNIT_WORDS = { s: 'second', m: 'minute', h: 'hour', d: 'day' } as const;
type Unit = keyof typeof UNIT_MS;

export const DURATION_PATTERN = /^([1-9][0-9]{0,6})(s|m|h|d)$/;

/** Milliseconds of a duration such as `15m`; undefined when the text is not one. */
export function durationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as Unit];
}

/** `15m` as "15 minutes", `1h` as "hour" (after "per") or "1 hour". */
export function durationInWords(text: string, options: { afterPer?: boolean } = {}): string {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return text;
  const count = Number(match[1]);
  const word = UNIT_WORDS[match[2] as Unit];
  if (count === 1) return options.afterPer === true ? word : `1 ${word}`;
  return `${count} ${word}s`;
}

/** A wait in words, rounded up to what a person would say: "40 seconds", "12 minutes", "3 hours". */
export function waitInWords(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}
