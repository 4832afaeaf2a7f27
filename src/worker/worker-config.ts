import { ConfigError } from '../config/config-error.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { parseConfig } from '../config/parse-config.js';
import type { Environment } from '../config/environment-references.js';

const CONFIG_BINDING = 'AGENTTRAIL_CONFIG';
const REMOTE_DATABASE = /^(https?|libsql|wss?):\/\//;

/**
 * The gateway config from the AGENTTRAIL_CONFIG var: the agenttrail.yaml schema, as JSON text or
 * as a wrangler.toml table, with `${NAME}` read from the Worker's vars and secrets. What a Worker
 * cannot do (start processes, read files, wait for approvers) is refused with what to do instead.
 */
export function parseWorkerConfig(binding: string | Readonly<Record<string, unknown>>, environment: Environment): GatewayConfig {
  const text = typeof binding === 'string' ? binding : JSON.stringify(binding);
  const config = parseConfig(text, CONFIG_BINDING, environment);
  const problems = workerConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(`${CONFIG_BINDING}: ${problems.join('; ')}`);
  return config;
}

/** The libSQL server of the log: AGENTTRAIL_DB, else the config's log.db; a Worker has no database files. */
export function workerDatabaseUrl(fromBinding: string | undefined, config: GatewayConfig): string {
  const url = fromBinding ?? config.log.db;
  if (!REMOTE_DATABASE.test(url)) {
    throw new ConfigError(
      `${fromBinding === undefined ? `${CONFIG_BINDING}: log.db` : 'AGENTTRAIL_DB'}: a Worker keeps its log on a libSQL server (http(s)://, libsql:// or ws(s)://, e.g. Turso), not in ${url.split('?')[0]}`,
    );
  }
  return url;
}

function workerConfigProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  for (const [name, server] of Object.entries(config.servers)) {
    if ('command' in server) problems.push(`servers.${name}: a Worker cannot start stdio servers (command: ${server.command}); reach the server over HTTP (url:)`);
  }
  if (config.log.syncUrl !== undefined) problems.push('log.syncUrl: a Worker has no files for an embedded replica; set log.db (or AGENTTRAIL_DB) to the server');
  if (config.log.key !== undefined) problems.push('log.key: a Worker takes its signer key from the secret AGENTTRAIL_SIGNER_KEY, not a file');
  if (config.log.secret !== undefined) problems.push('log.secret: a Worker takes the log secret from the secret AGENTTRAIL_LOG_SECRET, not a file');
  if (config.auth.unauthenticated === 'loopback') problems.push('auth.unauthenticated: a Worker has no loopback agents; give each agent a token (agenttrail agents add)');
  if (config.policies !== undefined) problems.push('policies: policy folders are read from files, which a Worker has not; run agenttrail serve for policies');
  if (config.approvers !== undefined) problems.push('approvers: approvals are not served by the Worker yet; run agenttrail serve for approvals');
  return problems;
}
