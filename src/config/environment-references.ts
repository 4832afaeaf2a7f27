// `${NAME}` in any string value of the config is replaced by the environment variable NAME,
// so that secrets (tokens in headers, keys in env) stay out of the file. `$${` writes a literal
// `${`. Keys are never substituted: they are names, not values.

export type Environment = Readonly<Record<string, string | undefined>>;

export interface EnvironmentReferenceProblem {
  readonly path: readonly (string | number)[];
  readonly reason: string;
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{[^}]*\}?/g;

/** Returns a copy of `value` with references replaced, and every reference that could not be. */
export function substituteEnvironmentReferences(
  value: unknown,
  environment: Environment,
): { value: unknown; problems: EnvironmentReferenceProblem[] } {
  const problems: EnvironmentReferenceProblem[] = [];

  const substituteString = (text: string, path: readonly (string | number)[]): string =>
    text.replace(REFERENCE, (match: string, name: string | undefined) => {
      if (match === '$${') return '${';
      if (name === undefined) {
        problems.push({ path, reason: `malformed environment reference; write \${NAME} (or $\${ for a literal \${)` });
        return match;
      }
      const replacement = environment[name];
      if (replacement === undefined) {
        problems.push({ path, reason: `environment variable ${name} is not set` });
        return match;
      }
      return replacement;
    });

  const visit = (node: unknown, path: readonly (string | number)[]): unknown => {
    if (typeof node === 'string') return substituteString(node, path);
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (isPlainObject(node)) {
      // fromEntries defines own properties, so a "__proto__" key stays a key (and is then rejected).
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, visit(item, [...path, key])]));
    }
    return node;
  };

  return { value: visit(value, []), problems };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
