import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { isTokenExchange } from './config-schema.js';
import type { CredentialSource, GatewayConfig } from './config-schema.js';
import type { Environment } from './environment-references.js';
import { parseConfig } from './parse-config.js';
import type { ParseConfigOptions } from './parse-config.js';

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** Absolute path of the file the config came from. */
  readonly file: string;
}

/**
 * Reads and validates a config file. Relative paths in it (`servers.*.cwd`, `log.key`, `log.secret`,
 * `file:` credential and webhook secret sources, `policies.dir`) are resolved against the file's folder, so the file means the same
 * from any working directory.
 * Errors name the file as `filePath` was given, which is how the user typed it.
 */
export async function loadConfigFile(
  filePath: string,
  environment: Environment = process.env,
  options: ParseConfigOptions = {},
): Promise<LoadedConfig> {
  const file = path.resolve(filePath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(describeReadFailure(filePath, error));
  }

  const config = parseConfig(text, filePath, environment, options);
  const folder = path.dirname(file);
  const servers = Object.fromEntries(
    Object.entries(config.servers).map(([name, server]) => [
      name,
      'command' in server && server.cwd !== undefined ? { ...server, cwd: path.resolve(folder, server.cwd) } : server,
    ]),
  );
  const log = {
    ...config.log,
    ...(config.log.key === undefined ? {} : { key: path.resolve(folder, config.log.key) }),
    ...(config.log.secret === undefined ? {} : { secret: path.resolve(folder, config.log.secret) }),
  };
  const credentials = Object.fromEntries(
    Object.entries(config.credentials).map(([name, credential]) => [name, { ...credential, source: sourceRelativeTo(folder, credential.source) }]),
  );
  const policies = config.policies === undefined ? {} : { policies: { ...config.policies, dir: path.resolve(folder, config.policies.dir) } };
  const github = config.ingest?.github;
  const ingest = github === undefined ? {} : { ingest: { ...config.ingest, github: { secret: sourceRelativeTo(folder, github.secret) } } };
  return { config: { ...config, log, servers, credentials, ...policies, ...ingest }, file };
}

/** A `file:` source (also a token exchange's) with its path made absolute against the config's folder. */
function sourceRelativeTo<T extends CredentialSource>(folder: string, source: T): T {
  if (typeof source === 'string') return (source.startsWith('file:') ? `file:${path.resolve(folder, source.slice('file:'.length))}` : source) as T;
  if (!isTokenExchange(source)) return source;
  const { clientSecret, subjectToken } = source.tokenExchange;
  return {
    tokenExchange: {
      ...source.tokenExchange,
      clientSecret: sourceRelativeTo(folder, clientSecret),
      ...(subjectToken === undefined ? {} : { subjectToken: sourceRelativeTo(folder, subjectToken) }),
    },
  } as T;
}

function describeReadFailure(filePath: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `config file not found: ${filePath}`;
  if (code === 'EISDIR') return `config file is a directory: ${filePath}`;
  if (code === 'EACCES' || code === 'EPERM') return `config file not readable (permission denied): ${filePath}`;
  return `cannot read config file ${filePath}: ${(error as Error).message}`;
}
