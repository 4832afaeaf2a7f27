/**
 * A glob over names and URIs: `*` stands for any run of characters (slashes included, so that
 * `file:///tmp/*` covers a whole tree), `?` for exactly one; everything else stands for itself.
 * Matching is case-sensitive, as tool names and URIs are.
 */
export function globMatcher(pattern: string): (text: string) => boolean {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const expression = new RegExp(`^${source}$`, 'u');
  return (text) => expression.test(text);
}

/** Whether any of the globs matches; no globs at all means no constraint. */
export function anyGlobMatches(globs: readonly ((text: string) => boolean)[] | undefined, text: string | undefined): boolean {
  if (globs === undefined) return true;
  return text !== undefined && globs.some((matches) => matches(text));
}
