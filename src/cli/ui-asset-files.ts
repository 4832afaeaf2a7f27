import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetRoot, UiAssetFiles } from '../http/ui/ui-assets.js';

/**
 * The web UI's browser modules on Node: the built sources beside this file (dist/), and the
 * packages they import where Node resolves them. The routes (ui-assets.ts) decide which names
 * may be asked for; this only reads them.
 */
export function nodeUiAssetFiles(): UiAssetFiles {
  const folders: Readonly<Record<AssetRoot, string>> = {
    app: fileURLToPath(new URL('../', import.meta.url)),
    'noble-hashes': dirname(fileURLToPath(import.meta.resolve('@noble/hashes/sha2.js'))),
    'noble-ed25519': dirname(fileURLToPath(import.meta.resolve('@noble/ed25519'))),
  };
  return {
    async read(root, path) {
      try {
        return await readFile(join(folders[root], path), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}
