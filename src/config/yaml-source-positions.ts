import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * Where a field path points in the YAML source: the start of its key (`timeoutMs:`), or of the
 * item for list entries. When the path leads to something that is not in the file (a missing
 * key), the position is that of the deepest part that is: the key of the object that lacks it.
 */
export function locateFieldPath(
  document: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
): SourcePosition {
  let node: unknown = document.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;

  for (const segment of path) {
    const current = resolveAlias(document, node);
    if (isMap(current)) {
      const pair = current.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) break;
      const keyOffset = isNode(pair.key) ? pair.key.range?.[0] : undefined;
      if (keyOffset !== undefined) offset = keyOffset;
      node = pair.value;
    } else if (isSeq(current) && typeof segment === 'number') {
      const item: unknown = current.items[segment];
      if (!isNode(item) || item.range === undefined || item.range === null) break;
      offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }

  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function resolveAlias(document: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(document) : node;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return isNode(key) ? String((key as Node).toJSON()) : String(key);
}
