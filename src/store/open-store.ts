import { openLibsqlStore } from './libsql-store.js';
import type { LocalFileAccess, Store, StoreOptions } from './libsql-store.js';
import { LocalFileReader } from './local-file-reader.js';
import { LocalFileWriter } from './local-file-writer.js';

export type { LogRows, Store, StoreOptions } from './libsql-store.js';

/** The native libsql driver's direct access to local database files. */
const NATIVE_FILE_ACCESS: LocalFileAccess = {
  reader: (path) => new LocalFileReader(path),
  writer: (path, busyTimeoutMs) => LocalFileWriter.open(path, busyTimeoutMs),
};

/** Opens (creating if needed) and migrates the audit database on Node; throws StoreOpenError. */
export function openStore(options: StoreOptions): Promise<Store> {
  return openLibsqlStore(options, NATIVE_FILE_ACCESS);
}
