import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatFieldPath } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { defaultIssueMessages, describeSchemaIssues } from './config-issue-messages.js';
import { gatewayConfigSchema, gatewayConfigWithOptionalServersSchema } from './config-schema.js';
import type { GatewayConfig } from './config-schema.js';
import { substituteEnvironmentReferences } from './environment-references.js';
import type { Environment } from './environment-references.js';
import { locateFieldPath } from './yaml-source-positions.js';

export interface ParseConfigOptions {
  /** `false` accepts a file without servers (for `agenttrail wrap`, whose upstream is on the command line). Default `true`. */
  readonly requireServers?: boolean;
}

/**
 * Parses and validates the text of an agenttrail.yaml (JSON is accepted too, being YAML).
 * `${NAME}` references in string values are replaced from `environment`. Paths are returned as
 * written (`cwd` stays relative); `loadConfigFile` resolves them against the file's folder.
 * Throws `ConfigError` whose message reads `<fileName>:<line>:<col>: <field.path>: <problem>`.
 * Runtime-neutral: no file system access.
 */
export function parseConfig(
  text: string,
  fileName: string,
  environment: Environment = processEnvironment(),
  options: ParseConfigOptions = {},
): GatewayConfig {
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending source line, which may hold a secret.
  const document = parseDocument(text, { lineCounter, prettyErrors: false });

  const issueAt = (path: readonly PropertyKey[], reason: string): ConfigIssue => ({
    file: fileName,
    ...locateFieldPath(document, lineCounter, path),
    path: formatFieldPath(path),
    reason,
  });

  if (document.errors.length > 0) {
    throw ConfigError.fromIssues(
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { file: fileName, line, column: col, path: '', reason: `invalid YAML: ${firstLine(error.message)}` };
      }),
    );
  }

  let parsed: unknown;
  try {
    parsed = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Only alias explosions get here; the message names no values.
    throw ConfigError.fromIssues([issueAt([], `invalid YAML: ${firstLine(String((error as Error).message))}`)]);
  }
  // A file with nothing but comments is an empty configuration, not a "null" one.
  if (parsed === null || parsed === undefined) parsed = {};

  const substituted = substituteEnvironmentReferences(parsed, environment);
  if (substituted.problems.length > 0) {
    throw ConfigError.fromIssues(substituted.problems.map((problem) => issueAt(problem.path, problem.reason)));
  }

  const schema = options.requireServers === false ? gatewayConfigWithOptionalServersSchema : gatewayConfigSchema;
  const result = schema.safeParse(substituted.value, { error: defaultIssueMessages });
  if (!result.success) {
    const problems = describeSchemaIssues(result.error.issues, substituted.value, schema);
    throw ConfigError.fromIssues(problems.map((problem) => issueAt(problem.path, problem.reason)));
  }
  return result.data;
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function processEnvironment(): Environment {
  return typeof process === 'undefined' ? {} : process.env;
}
