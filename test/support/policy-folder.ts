import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A policy folder holding one file with `rules` (written as JSON, which is YAML too), for a gateway's config. */
export function policyFolder(rules: readonly Record<string, unknown>[]): string {
  const folder = mkdtempSync(join(tmpdir(), 'agenttrail-policies-'));
  writeFileSync(join(folder, 'rules.yaml'), JSON.stringify({ rules }, null, 1));
  return folder;
}
