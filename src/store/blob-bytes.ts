/** A BLOB column's bytes (@libsql/client returns ArrayBuffer); `what` names the column for the error. */
export function blobBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new Error(`${what} is not stored as a BLOB (found ${value === null ? 'NULL' : typeof value})`);
}
