import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';

/**
 * The text of a file that holds a secret (a signing key, the log secret); refuses one that other
 * users can read, as ssh does. A missing file throws an error whose `cause` has code ENOENT.
 */
export async function readPrivateFile(path: string, what: string, howToCreate: string): Promise<string> {
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`${what} ${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}`);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) throw new Error(`no ${what} at ${path}; ${howToCreate}`, { cause: error });
    throw error;
  }
}

/** Creates a file readable by its owner only; never overwrites one that exists (the error's `cause` has code EEXIST). */
export async function createPrivateFile(path: string, text: string, what: string, whyNotOverwritten: string): Promise<void> {
  let file;
  try {
    file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if (isAlreadyThere(error)) throw new Error(`${what} ${path} already exists; ${whyNotOverwritten}`, { cause: error });
    throw new Error(`cannot create ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * The private file at `path`, created by `create` on first run. Another process starting at the
 * same moment may create it first; then its file is read.
 */
export async function readOrCreatePrivateFile<T>(read: () => Promise<T>, create: () => Promise<T>): Promise<{ value: T; created: boolean }> {
  try {
    return { value: await read(), created: false };
  } catch (error) {
    if (!isMissing((error as Error).cause)) throw error;
  }
  try {
    return { value: await create(), created: true };
  } catch (error) {
    if (isAlreadyThere((error as Error).cause)) return { value: await read(), created: false };
    throw error;
  }
}

function isAlreadyThere(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
