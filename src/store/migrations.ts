import type { Client } from '@libsql/client';

/** A schema change. Versions are contiguous from 1 and never edited once released: add a new one. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'entries',
    statements: [
      // The query columns repeat fields of the signed body so reviewers can filter without parsing
      // every body; verification checks that they still match it.
      `CREATE TABLE entries (
        log TEXT NOT NULL,
        idx INTEGER NOT NULL,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        session TEXT,
        server TEXT,
        tool TEXT,
        call TEXT,
        body BLOB NOT NULL,
        PRIMARY KEY (log, idx)
      )`,
      'CREATE INDEX entries_by_session ON entries (log, session)',
      'CREATE INDEX entries_by_call ON entries (log, call)',
    ],
  },
  {
    version: 2,
    name: 'merkle tree and checkpoints',
    statements: [
      // One row per tile (see src/ledger/tiles.ts); the right-most tile of each level is rewritten
      // as it grows, which keeps every hash a proof for an earlier tree size needs (a prefix).
      `CREATE TABLE tiles (
        log TEXT NOT NULL,
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hashes BLOB NOT NULL,
        PRIMARY KEY (log, level, idx)
      )`,
      // Checkpoints are never updated or deleted. size and root repeat the signed note for queries;
      // key is the signer's verifier key, so a verifier without one of its own can start somewhere.
      `CREATE TABLE checkpoints (
        log TEXT NOT NULL,
        size INTEGER NOT NULL,
        root BLOB NOT NULL,
        key TEXT NOT NULL,
        note TEXT NOT NULL,
        PRIMARY KEY (log, size)
      )`,
    ],
  },
  {
    version: 3,
    name: 'witness cosignatures',
    statements: [
      // A witness's c2sp.org/tlog-cosignature lines on a checkpoint, appended to its note to check them.
      `CREATE TABLE cosignatures (
        log TEXT NOT NULL,
        size INTEGER NOT NULL,
        witness TEXT NOT NULL,
        lines TEXT NOT NULL,
        PRIMARY KEY (log, size, witness)
      )`,
    ],
  },
  {
    version: 4,
    name: 'principals',
    statements: [
      // Who may call the gateway and its API (src/auth). token_hash is SHA-256 of the token, which
      // itself is never stored. log and entry name the ledger entry that gave the row its current
      // state: a change applies only over an older entry, so the row follows the log's order.
      `CREATE TABLE principals (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('agent', 'reviewer', 'approver', 'admin')),
        token_hash BLOB NOT NULL CHECK (length(token_hash) = 32),
        status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        log TEXT NOT NULL,
        entry INTEGER NOT NULL
      )`,
      'CREATE UNIQUE INDEX principals_by_token_hash ON principals (token_hash)',
    ],
  },
  {
    version: 5,
    name: 'credentials',
    statements: [
      // The life cycle of the credentials the gateway delegates (src/cli/credentials-command.ts).
      // fingerprint is the keyed fingerprint of the secret as last added or rotated (null when a
      // credential was revoked before its secret was ever recorded); the secret itself is never
      // stored. log and entry name the ledger entry that gave the row its state, as for principals.
      `CREATE TABLE credentials (
        name TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        fingerprint TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        log TEXT NOT NULL,
        entry INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'review: sessions in order, search',
    statements: [
      // A session's entries in index order straight from the index: timelines and session summaries
      // (first and last entry) read no table row they do not need. Supersedes the (log, session) index.
      'DROP INDEX entries_by_session',
      'CREATE INDEX entries_by_session ON entries (log, session, idx)',
      // Full-text search over recorded payloads (src/review/search-index.ts). The index is derived
      // data, caught up by `agenttrail search` itself, so that appending entries never waits for it.
      // search_entries numbers the indexed entries: an explicit INTEGER PRIMARY KEY keeps the
      // numbers through VACUUM, which the implicit rowid of `entries` would not.
      `CREATE TABLE search_entries (
        id INTEGER PRIMARY KEY,
        log TEXT NOT NULL,
        idx INTEGER NOT NULL,
        UNIQUE (log, idx)
      )`,
      // Contentless: the text stays in the entries' bodies, not a second time here.
      "CREATE VIRTUAL TABLE search_text USING fts5(text, content='', contentless_delete=1)",
    ],
  },
  {
    version: 7,
    name: 'retention: pruned entries keep their leaf hash',
    statements: [
      // Set when retention removed the entry's payload (src/store/entry-pruning.ts): the leaf hash of
      // the signed body, which stands in for the body when the tree is recomputed.
      'ALTER TABLE entries ADD COLUMN pruned_leaf BLOB',
    ],
  },
  {
    version: 8,
    name: 'principals: the ingest role',
    statements: [
      // Other systems' tokens, which append their events to the log (POST /v1/events). SQLite cannot
      // change a CHECK constraint in place: the table is made again with every row and its index.
      `CREATE TABLE principals_with_ingest (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('agent', 'reviewer', 'approver', 'admin', 'ingest')),
        token_hash BLOB NOT NULL CHECK (length(token_hash) = 32),
        status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        log TEXT NOT NULL,
        entry INTEGER NOT NULL
      )`,
      'INSERT INTO principals_with_ingest (name, role, token_hash, status, created, updated, log, entry) SELECT name, role, token_hash, status, created, updated, log, entry FROM principals',
      'DROP TABLE principals',
      'ALTER TABLE principals_with_ingest RENAME TO principals',
      'CREATE UNIQUE INDEX principals_by_token_hash ON principals (token_hash)',
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to LATEST_SCHEMA_VERSION. Safe when several processes open the same new
 * database at once: each migration is one batch that first claims its version row, so a second
 * applier fails on that row, rolls back, and finds the migration already applied.
 */
export async function applyMigrations(client: Client): Promise<void> {
  // Reading first keeps opening an up-to-date database free of write locks.
  let version = await readSchemaVersion(client);
  if (version === LATEST_SCHEMA_VERSION) return;

  await client.execute(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`,
  );
  // One batch per migration, not an interactive transaction: the native driver blocks the thread
  // while it waits for a lock, so a transaction held open across awaits could stall another
  // connection of this same process until its busy timeout.
  for (const migration of MIGRATIONS.filter((m) => m.version > version)) {
    try {
      await client.batch(
        [
          {
            sql: 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
            args: [migration.version, migration.name, new Date().toISOString()],
          },
          ...migration.statements,
        ],
        'write',
      );
    } catch (error) {
      version = await readSchemaVersion(client);
      if (version >= migration.version) continue;
      throw new Error(`schema migration ${migration.version} (${migration.name}) failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }
}

// Everything verify and export read (entries with their pruned leaves, tiles, checkpoints,
// cosignatures) is there from version 7 on.
const LEDGER_SCHEMA_VERSION = 7;

/**
 * For readers that must not write (verify, export): the database must hold the whole ledger
 * already, or the error says how to bring it there. Later versions add nothing they read.
 */
export async function requireLedgerSchema(client: Client): Promise<void> {
  const version = await readSchemaVersion(client);
  if (version < LEDGER_SCHEMA_VERSION) {
    throw new Error(
      `the database has schema version ${version}, older than the ledger's ${LEDGER_SCHEMA_VERSION}; ` +
        'start agenttrail serve (or wrap) on it once to upgrade it, then read it again',
    );
  }
}

async function readSchemaVersion(client: Client): Promise<number> {
  const table = await client.execute(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  );
  if (table.rows.length === 0) return 0;
  const result = await client.execute('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations');
  const version = Number(result.rows[0]?.['version'] ?? 0);
  assertKnownVersion(version);
  return version;
}

function assertKnownVersion(version: number): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new Error(
      `the database has schema version ${version}, newer than this AgentTrail knows (${LATEST_SCHEMA_VERSION}); upgrade AgentTrail`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
