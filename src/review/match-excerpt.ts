const CONTEXT_CHARS = 60;

/**
 * The part of a recorded payload where one of `words` occurs (case-insensitively), with some
 * context either side, on one line; the start of the payload's first string when none occurs
 * as typed (the index also matches words it folded, such as accents).
 */
export function matchExcerpt(payload: unknown, words: readonly string[]): string {
  const strings = stringsOf(payload);
  const needles = words.map((word) => word.toLowerCase());
  for (const text of strings) {
    const lower = text.toLowerCase();
    for (const needle of needles) {
      const at = lower.indexOf(needle);
      if (at >= 0) return excerptAround(text, at, needle.length);
    }
  }
  return excerptAround(strings[0] ?? '', 0, 0);
}

function excerptAround(text: string, at: number, length: number): string {
  const start = Math.max(0, at - CONTEXT_CHARS);
  const end = Math.min(text.length, at + length + CONTEXT_CHARS);
  const middle = text.slice(start, end).replace(/\s+/g, ' ');
  return `${start > 0 ? '…' : ''}${middle}${end < text.length ? '…' : ''}`;
}

/** Every string in a JSON value, depth first. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsOf);
  return [];
}
