import { resolve } from 'node:path';
import { generateSignerKey, parseSignerKey } from '../ledger/note-keys.js';
import type { NoteSigner } from '../ledger/note-keys.js';
import { createPrivateFile, readOrCreatePrivateFile, readPrivateFile } from './private-file.js';

/** The key file a command uses: `--key`, then $AGENTTRAIL_KEY, then the config's log.key, then ./agenttrail.key. */
export function resolveKeyPath(flag: string | undefined, fromConfig: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag ?? env.AGENTTRAIL_KEY ?? fromConfig ?? 'agenttrail.key');
}

/** Reads a signer key file; refuses one that other users can read. */
export async function readGatewayKey(path: string): Promise<NoteSigner> {
  const text = await readPrivateFile(path, 'key file', `create one with agenttrail keys init --key ${path}`);
  try {
    return parseSignerKey(text.trim());
  } catch (error) {
    throw new Error(`key file ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Creates a new signer key file (mode 0600); never overwrites one that exists. */
export async function createGatewayKey(path: string, name: string): Promise<NoteSigner> {
  const signerKey = generateSignerKey(name);
  await createPrivateFile(path, `${signerKey}\n`, 'key file', 'a key is never overwritten (agenttrail keys rotate replaces it)');
  return parseSignerKey(signerKey);
}

/** The gateway key at `path`, created on first run (with a note on stderr saying where). */
export async function loadOrCreateGatewayKey(path: string, name: string): Promise<NoteSigner> {
  const { value: signer, created } = await readOrCreatePrivateFile(
    () => readGatewayKey(path),
    () => createGatewayKey(path, name),
  );
  if (created) process.stderr.write(`agenttrail: created the gateway signing key ${path} (verifier key ${signer.verifierKey})\n`);
  return signer;
}
