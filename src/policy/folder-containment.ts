/**
 * Whether a POSIX path names `folder` or something inside it, after `.` and `..` are resolved the
 * way the file system would (`/tmp/work/../etc` is not inside `/tmp/work`). A relative path is never
 * inside: what it means depends on a working folder the policy cannot see, so a rule that denies
 * writes outside a folder denies it too. Symbolic links are not followed: the policy sees names only.
 */
export function isWithinFolder(path: string, folder: string): boolean {
  const target = absoluteSegments(path);
  const container = absoluteSegments(folder);
  if (target === undefined || container === undefined || target.length < container.length) return false;
  return container.every((segment, position) => target[position] === segment);
}

function absoluteSegments(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments;
}
