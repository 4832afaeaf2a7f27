import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSignerKey, parseSignerKey } from '../../src/ledger/note-keys.js';
import type { NoteSigner } from '../../src/ledger/note-keys.js';

const keysFolder = mkdtempSync(join(tmpdir(), 'agenttrail-approvers-'));

/** An approver's own key file, as `agenttrail keys init --key FILE --origin NAME` makes it. */
export function approverKey(name: string): { file: string; verifierKey: string; signer: NoteSigner } {
  const signerKey = generateSignerKey(name);
  const file = join(keysFolder, `${name}-${crypto.randomUUID()}.key`);
  writeFileSync(file, `${signerKey}\n`, { mode: 0o600 });
  const signer = parseSignerKey(signerKey);
  return { file, verifierKey: signer.verifierKey, signer };
}
