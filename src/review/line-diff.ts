/** One line of a diff: kept, removed from the first text, or added in the second. */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

// Above this many line pairs the diff is not worked out line by line: every line is shown as
// removed and added, which is still a correct (if long) diff.
const MAX_COMPARED_PAIRS = 4_000_000;

/**
 * A shortest-edit line diff (longest common subsequence): the lines of `before` and `after` in
 * order, each marked kept, removed or added. Removals come before additions where both apply.
 */
export function diffLines(before: readonly string[], after: readonly string[]): DiffLine[] {
  if (before.length * after.length > MAX_COMPARED_PAIRS) {
    return [...before.map((text) => ({ op: '-' as const, text })), ...after.map((text) => ({ op: '+' as const, text }))];
  }
  // common[i][j]: the length of the longest common subsequence of before[i..] and after[j..].
  const common = Array.from({ length: before.length + 1 }, () => new Uint32Array(after.length + 1));
  for (let i = before.length - 1; i >= 0; i -= 1) {
    for (let j = after.length - 1; j >= 0; j -= 1) {
      common[i]![j] = before[i] === after[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      lines.push({ op: ' ', text: before[i]! });
      i += 1;
      j += 1;
    } else if (j >= after.length || (i < before.length && common[i + 1]![j]! >= common[i]![j + 1]!)) {
      lines.push({ op: '-', text: before[i]! });
      i += 1;
    } else {
      lines.push({ op: '+', text: after[j]! });
      j += 1;
    }
  }
  return lines;
}

/**
 * The changed lines of a diff with `context` kept lines around each run of changes, as
 * `- text`, `+ text` and `  text`, runs apart marked `…`; at most `maxLines` lines, the rest counted.
 */
export function compactDiff(lines: readonly DiffLine[], context = 1, maxLines = 20): string[] {
  const shown = lines.map((line, at) => line.op !== ' ' || lines.slice(Math.max(0, at - context), at + context + 1).some((near) => near.op !== ' '));
  const out: string[] = [];
  let skipped = false;
  lines.forEach((line, at) => {
    if (!shown[at]) {
      skipped = true;
      return;
    }
    if (skipped && out.length > 0) out.push('…');
    skipped = false;
    out.push(`${line.op} ${line.text}`);
  });
  if (out.length <= maxLines) return out;
  return [...out.slice(0, maxLines), `… (${out.length - maxLines} more diff lines)`];
}
