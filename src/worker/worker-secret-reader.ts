import type { SecretSourceReader } from '../credentials/credential-sources.js';
import type { Environment } from '../config/environment-references.js';

const NO_FILES = 'a Worker has no files or processes: use env:NAME with a Worker secret (wrangler secret put NAME)';

/** Credentials in a Worker: `env:NAME` reads its vars and secrets; there are no files or commands. */
export function workerSecretReader(bindings: Environment): SecretSourceReader {
  return {
    env: (name) => bindings[name],
    readFile: () => Promise.reject(new Error(NO_FILES)),
    runCommand: () => Promise.reject(new Error(NO_FILES)),
  };
}
