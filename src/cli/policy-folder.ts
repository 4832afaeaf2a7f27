import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { PolicySource } from '../policy/policy-version.js';

const POLICY_FILE = /\.ya?ml$/;

/**
 * The policy files of a folder (*.yaml and *.yml; a README or an editor's backup beside them is
 * not a policy). Errors name files relative to the working folder, as a user would type them.
 */
export async function readPolicyFolder(dir: string): Promise<PolicySource[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() && POLICY_FILE.test(entry.name)).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`policy folder not found: ${shown(dir)}`);
    if (code === 'ENOTDIR') throw new ConfigError(`policy folder is not a folder: ${shown(dir)}`);
    throw new ConfigError(`cannot read policy folder ${shown(dir)}: ${(error as Error).message}`);
  }
  return Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      try {
        return { name, location: shown(file), bytes: new Uint8Array(await readFile(file)) };
      } catch (error) {
        throw new ConfigError(`cannot read policy file ${shown(file)}: ${(error as Error).message}`);
      }
    }),
  );
}

function shown(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath === '' ? '.' : relativePath.startsWith('..') ? path : relativePath;
}
