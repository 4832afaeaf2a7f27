/** One problem in a config file, located where the user has to fix it. */
export interface ConfigIssue {
  /** The file name as the user gave it. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Dotted field path such as `servers.files.timeoutMs`; empty for YAML syntax errors. */
  readonly path: string;
  /** What is wrong, never including secret values (headers, env). */
  readonly reason: string;
}

/** `<file>:<line>:<col>: <field.path>: <what is wrong>` */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.reason}` : `${where}: ${issue.path}: ${issue.reason}`;
}

/**
 * A config file that cannot be used. `message` is one line: the first problem in file order,
 * followed by how many more there are; `issues` holds all of them.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[] = []) {
    super(message);
    this.issues = issues;
  }

  static fromIssues(issues: readonly ConfigIssue[]): ConfigError {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    const [first] = sorted;
    if (first === undefined) throw new TypeError('ConfigError.fromIssues needs at least one issue');
    const more = sorted.length - 1;
    const suffix = more === 0 ? '' : ` (and ${more} more problem${more === 1 ? '' : 's'})`;
    return new ConfigError(formatConfigIssue(first) + suffix, sorted);
  }
}

/** `servers.files.args[1]`; keys that are not plain words are quoted: `servers["my server"]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z0-9_$-]+$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}
