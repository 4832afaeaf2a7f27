import { expect } from 'vitest';
import type { CliResult } from './agenttrail-command.js';

export { runAgenttrail } from './agenttrail-command.js';
export type { CliResult } from './agenttrail-command.js';

/** The one-line reason of a command that must be refused: exit code 2, nothing on stdout. */
export function refusalOf(result: CliResult): string {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  return result.stderr.split('\n')[0]!;
}
