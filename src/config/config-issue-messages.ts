import { z } from 'zod';
import { httpServerConfigSchema, serverConfigSchema, stdioServerConfigSchema } from './config-schema.js';

// Turns zod's issues into what a person editing agenttrail.yaml needs to read: which field,
// what is expected, what was found (never for secrets), and for unknown keys the likely typo.

export interface FieldProblem {
  readonly path: readonly PropertyKey[];
  readonly reason: string;
}

/** Messages for issues whose schema does not set its own (pass as `error` to safeParse). */
export const defaultIssueMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : `expected ${describeExpectedType(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum}`;
    case 'too_big':
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? 'a value of the documented form' : `a valid ${issue.format}`}`;
    default:
      return undefined;
  }
};

const STDIO_KEYS = Object.keys(stdioServerConfigSchema.shape);
const HTTP_KEYS = Object.keys(httpServerConfigSchema.shape);
const STDIO_FORM = serverConfigSchema.options.indexOf(stdioServerConfigSchema);
const HTTP_FORM = serverConfigSchema.options.indexOf(httpServerConfigSchema);

/** `input` is what was validated: the parsed file after environment substitution. */
export function describeSchemaIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.ZodType): FieldProblem[] {
  const problems: FieldProblem[] = [];

  const translate = (list: readonly z.core.$ZodIssue[], base: readonly PropertyKey[]): void => {
    for (const issue of list) {
      const path = [...base, ...issue.path];
      switch (issue.code) {
        case 'unrecognized_keys':
          for (const key of issue.keys) problems.push(unknownKeyProblem([...path, key]));
          break;
        case 'invalid_union': {
          if (isServerEntryPath(path)) {
            translateServerEntry(issue.errors, path);
            break;
          }
          const meant = meantForm(issue.errors, valueAt(input, path));
          if (meant === undefined) problems.push({ path, reason: issue.message });
          else translate(meant, path);
          break;
        }
        case 'invalid_key':
        case 'invalid_element':
          problems.push({ path, reason: issue.issues[0]?.message ?? issue.message });
          break;
        default:
          problems.push({ path, reason: withReceivedValue(issue, path) });
      }
    }
  };

  // A server is either stdio (command) or HTTP (url); zod reports a mismatch against both
  // forms, so report against the form the user evidently meant.
  const translateServerEntry = (branchIssues: readonly (readonly z.core.$ZodIssue[])[], path: readonly PropertyKey[]): void => {
    const entry = valueAt(input, path);
    if (!isPlainObject(entry)) {
      problems.push({
        path,
        reason: `expected a mapping with "command" (a stdio server) or "url" (an HTTP server), got ${describeValue(entry)}`,
      });
      return;
    }
    const hasCommand = 'command' in entry;
    const hasUrl = 'url' in entry;
    if (hasCommand && hasUrl) {
      problems.push({ path, reason: 'has both "command" (a stdio server) and "url" (an HTTP server); keep one' });
    } else if (hasCommand || hasUrl) {
      translate(branchIssues[hasCommand ? STDIO_FORM : HTTP_FORM] ?? [], path);
    } else {
      const unknownKeys = Object.keys(entry).filter((key) => !STDIO_KEYS.includes(key) && !HTTP_KEYS.includes(key));
      // `comand: npx` is fully explained by its typo; `cmd: npx` also needs to be told what is missing.
      const typoOfFormKey = unknownKeys.some((key) => ['command', 'url'].includes(closestKey(key, [...STDIO_KEYS, ...HTTP_KEYS]) ?? ''));
      if (!typoOfFormKey) {
        problems.push({ path, reason: 'needs "command" (to start a stdio server) or "url" (to reach an HTTP server)' });
      }
      for (const key of unknownKeys) problems.push(unknownKeyProblem([...path, key]));
    }
  };

  const unknownKeyProblem = (path: readonly PropertyKey[]): FieldProblem => {
    const key = String(path[path.length - 1]);
    const objectPath = path.slice(0, -1);
    if (!isServerEntryPath(objectPath)) {
      return { path, reason: unknownKeyReason(key, knownKeysAt(schema, objectPath)) };
    }
    const entry = valueAt(input, objectPath);
    const kind = isPlainObject(entry) ? ('command' in entry ? 'stdio' : 'url' in entry ? 'http' : undefined) : undefined;
    if (kind === 'stdio' && HTTP_KEYS.includes(key)) {
      return { path, reason: `"${key}" applies only to HTTP servers (those with url), not to stdio servers (command)` };
    }
    if (kind === 'http' && STDIO_KEYS.includes(key)) {
      return { path, reason: `"${key}" applies only to stdio servers (those with command), not to HTTP servers (url)` };
    }
    const known = kind === 'stdio' ? STDIO_KEYS : kind === 'http' ? HTTP_KEYS : [...new Set([...STDIO_KEYS, ...HTTP_KEYS])];
    return { path, reason: unknownKeyReason(key, known) };
  };

  const withReceivedValue = (issue: z.core.$ZodIssue, path: readonly PropertyKey[]): string => {
    const value = valueAt(input, path);
    // "got ..." completes an expectation; other messages ("add at least one server") stand alone.
    if (value === undefined || !/^(expected|must) /.test(issue.message)) return issue.message;
    const expectsString = issue.code === 'invalid_type' && issue.expected === 'string';
    const quoteHint = expectsString && (typeof value === 'number' || typeof value === 'boolean') ? '; put it in quotes' : '';
    if (isSecretPath(path)) {
      return issue.code === 'invalid_type' ? `${issue.message}, got ${describeType(value)}${quoteHint}` : issue.message;
    }
    if (issue.code !== 'invalid_type' && (typeof value === 'object' && value !== null)) return issue.message;
    return `${issue.message}, got ${describeValue(value)}${quoteHint}`;
  };

  translate(issues, []);
  return problems;
}

/**
 * The issues of the one form of a union that a mapping evidently meant ({ command: ... } or
 * { tokenExchange: ... } for a credential source): the only one whose own keys it uses. Undefined
 * when that is not clear, or the value is no mapping.
 */
function meantForm(branches: readonly (readonly z.core.$ZodIssue[])[], value: unknown): readonly z.core.$ZodIssue[] | undefined {
  if (!isPlainObject(value)) return undefined;
  const fitting = branches.filter((issues) =>
    issues.every((issue) => issue.path.length > 0 || (issue.code !== 'invalid_type' && issue.code !== 'unrecognized_keys')),
  );
  return fitting.length === 1 ? fitting[0] : undefined;
}

// Header values and environment values are where tokens live: never echo them.
function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path[0] === 'servers' && (path[2] === 'headers' || path[2] === 'env');
}

function isServerEntryPath(path: readonly PropertyKey[]): boolean {
  return path.length === 2 && path[0] === 'servers';
}

function unknownKeyReason(key: string, known: readonly string[]): string {
  const suggestion = closestKey(key, known);
  if (suggestion !== undefined) return `unknown key (did you mean "${suggestion}"?)`;
  return known.length === 0 ? 'unknown key' : `unknown key; expected one of: ${known.join(', ')}`;
}

/** The known key a typo most likely meant: same letters ignoring case, or at most 2 edits away. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Keys of the object schema that a path leads to (through defaults, records and lists). */
function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodUnion) current = current.options.map(unwrap).find((option) => option instanceof z.ZodObject && String(segment) in option.shape);
    if (current instanceof z.ZodObject) current = current.shape[String(segment)];
    else if (current instanceof z.ZodRecord) current = current.valueType;
    else if (current instanceof z.ZodArray) current = current.element;
    else return [];
    if (current === undefined) return [];
    current = unwrap(current);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeExpectedType(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    default:
      return expected;
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}
