// Schema versions. PRAGMA user_version holds the version; each migration moves the database
// one version up inside its own transaction. A database newer than this pban is refused.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';

export interface Migration {
  /** The version the database has after this migration. */
  readonly version: number;
  readonly up: (db: Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE jails (
          id            INTEGER PRIMARY KEY,
          name          TEXT    NOT NULL UNIQUE,
          clock         INTEGER,               -- newest failure time seen (ms), NULL before any
          seq           INTEGER NOT NULL DEFAULT 0,
          total_failed  INTEGER NOT NULL DEFAULT 0,
          total_banned  INTEGER NOT NULL DEFAULT 0
        );
        -- Failures in the window. No secondary index: this is the hot insert path.
        -- (jail_id, seq) is both the key and the arrival order; pruning deletes a seq range.
        CREATE TABLE failures (
          jail_id  INTEGER NOT NULL,
          seq      INTEGER NOT NULL,
          time     INTEGER NOT NULL,
          address  TEXT    NOT NULL,
          kind     TEXT    NOT NULL,
          PRIMARY KEY (jail_id, seq)
        ) WITHOUT ROWID;
        -- Every ban, active or lifted: also each target's ban history for the increment.
        CREATE TABLE bans (
          id          INTEGER PRIMARY KEY,
          jail_id     INTEGER NOT NULL REFERENCES jails (id),
          address     TEXT    NOT NULL,
          prefix      INTEGER NOT NULL,
          family      INTEGER NOT NULL CHECK (family IN (4, 6)),
          kind        TEXT    NOT NULL CHECK (kind IN ('address', 'network', 'manual')),
          created     INTEGER NOT NULL,
          until       INTEGER,                 -- NULL: permanent
          failures    INTEGER NOT NULL,
          ban_number  INTEGER NOT NULL,
          clear_seq   INTEGER NOT NULL,        -- failures with seq <= this left the target's window
          active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
          lift_reason TEXT CHECK (lift_reason IN ('expired', 'manual', 'jail-removed')),
          lifted_at   INTEGER,
          CHECK ((active = 1) = (lift_reason IS NULL))
        );
        CREATE INDEX bans_by_target ON bans (jail_id, address, prefix, created);
        CREATE INDEX bans_active ON bans (jail_id, until) WHERE active = 1;
        CREATE TABLE positions (
          source_id        TEXT    PRIMARY KEY,
          path             TEXT    NOT NULL,
          inode            INTEGER NOT NULL,
          byte_offset      INTEGER NOT NULL,
          first_line_hash  TEXT    NOT NULL
        );
      `),
  },
  {
    // The database's identity: a random id written once, when the database is created (or first
    // upgraded). The daemon keeps a copy in a marker file next to it (see state.ts), so a start
    // can tell "this is the database I had" from "an empty or different one took its place".
    version: 2,
    up: (db) => {
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
      db.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)").run(randomUUID());
    },
  },
  {
    // How each jail drives the firewall (JSON: actions, ports, protocol; see retired-jails.ts):
    // a jail removed from the config keeps its manual and permanent bans in force with the
    // firewall it had, also after a restart. NULL: not written yet (an older pban).
    version: 3,
    up: (db) => db.exec('ALTER TABLE jails ADD COLUMN firewall TEXT'),
  },
  {
    // Match traces: each ban keeps the last TRACE_LINES matched lines behind it, written in the
    // commit that stores the ban, for as long as the ban is active (lifted bans' lines are
    // pruned). Lines of addresses still failing live in the daemon's memory only: writing every
    // matched line cost replay half its speed (measured), and they are evidence of no ban yet.
    version: 4,
    up: (db) =>
      db.exec(`
        CREATE TABLE ban_lines (
          ban_id       INTEGER NOT NULL REFERENCES bans (id) ON DELETE CASCADE,
          seq          INTEGER NOT NULL,
          time         INTEGER NOT NULL,
          kind         TEXT    NOT NULL,
          regex_id     TEXT    NOT NULL,
          regex_index  INTEGER NOT NULL,
          line         TEXT    NOT NULL,
          PRIMARY KEY (ban_id, seq)
        ) WITHOUT ROWID;
      `),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings `db` to the newest version in `migrations`; refuses a database from a newer pban. */
export function migrate(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new StoreError(
      'store.tooNew',
      `${file}: database schema version ${current} is newer than this pban supports (${latest}); upgrade pban`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}
