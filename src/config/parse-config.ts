import { ConfigError } from './config-error.js';
import { defaultIssueMessages, describeSchemaIssues } from './config-issue-messages.js';
import { gatewayConfigSchema, gatewayConfigWithOptionalServersSchema } from './config-schema.js';
import type { GatewayConfig } from './config-schema.js';
import { substituteEnvironmentReferences } from './environment-references.js';
import type { Environment } from './environment-references.js';
import { readYamlDocument } from './yaml-document.js';

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
  environment: Environment,
  options: ParseConfigOptions = {},
): GatewayConfig {
  const { value: parsed, issueAt } = readYamlDocument(text, fileName);
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
