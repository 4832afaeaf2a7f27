import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * Writes to a temporary file beside `path` and renames it into place once complete, so that a
 * failed export never leaves something that looks like a whole one.
 */
export async function writeCompleteFile<T>(path: string, fill: (write: (chunk: string) => Promise<void>) => Promise<T>): Promise<T> {
  const temporary = `${path}.${process.pid}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx');
  } catch (error) {
    throw new Error(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let renamed = false;
  try {
    const result = await fill((chunk) => writeAll(handle, chunk));
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
    renamed = true;
    return result;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
    }
  }
}

async function writeAll(handle: FileHandle, chunk: string): Promise<void> {
  const bytes = Buffer.from(chunk, 'utf8');
  for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at)).bytesWritten;
}
