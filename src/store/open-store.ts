import { openLibsqlStore } from './libsql-store.js';
import type { Store, StoreOptions, StoreRuntime } from './libsql-store.js';
import { LocalFileReader } from './local-file-reader.js';
import { LocalFileWriter } from './local-file-writer.js';

export type { LogRows, Store, StoreOptions } from './libsql-store.js';

const NODE_STORE_RUNTIME: StoreRuntime = {
  // The native libsql driver's direct access to local database files.
  files: {
    reader: (path) => new LocalFileReader(path),
    writer: (path, busyTimeoutMs) => LocalFileWriter.open(path, busyTimeoutMs),
  },
  endOfTurn: () => new Promise((resolve) => setImmediate(resolve)),
};

/** Opens (creating if needed) and migrates the audit database on Node; throws StoreOpenError. */
export function openStore(options: StoreOptions): Promise<Store> {
  return openLibsqlStore(options, NODE_STORE_RUNTIME);
}
