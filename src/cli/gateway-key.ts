import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generateSignerKey, parseSignerKey } from '../ledger/note-keys.js';
import type { NoteSigner } from '../ledger/note-keys.js';

/** The key file a command uses: `--key`, then $AGENTTRAIL_KEY, then the config's log.key, then ./agenttrail.key. */
export function resolveKeyPath(flag: string | undefined, fromConfig: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag ?? env.AGENTTRAIL_KEY ?? fromConfig ?? 'agenttrail.key');
}

/** Reads a signer key file; refuses one that other users can read, as ssh does. */
export async function readGatewayKey(path: string): Promise<NoteSigner> {
  let text: string;
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`key file ${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) throw new Error(`no key file at ${path}; create one with agenttrail keys init --key ${path}`, { cause: error });
    throw error;
  }
  try {
    return parseSignerKey(text.trim());
  } catch (error) {
    throw new Error(`key file ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Creates a new signer key file (mode 0600); never overwrites one that exists. */
export async function createGatewayKey(path: string, name: string): Promise<NoteSigner> {
  const signerKey = generateSignerKey(name);
  let file;
  try {
    file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if (isAlreadyThere(error)) {
      throw new Error(`key file ${path} already exists; a key is never overwritten (agenttrail keys rotate replaces it)`, { cause: error });
    }
    throw new Error(`cannot create key file ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    await file.writeFile(`${signerKey}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return parseSignerKey(signerKey);
}

/** The gateway key at `path`, created on first run (with a note on stderr saying where). */
export async function loadOrCreateGatewayKey(path: string, name: string): Promise<NoteSigner> {
  try {
    return await readGatewayKey(path);
  } catch (error) {
    if (!isMissing((error as Error).cause)) throw error;
  }
  let signer: NoteSigner;
  try {
    signer = await createGatewayKey(path, name);
  } catch (error) {
    // Another process started at the same moment and created it first.
    if (isAlreadyThere((error as Error).cause)) return readGatewayKey(path);
    throw error;
  }
  process.stderr.write(`agenttrail: created the gateway signing key ${path} (verifier key ${signer.verifierKey})\n`);
  return signer;
}

function isAlreadyThere(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
