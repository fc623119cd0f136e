/**
 * Versioned schema. Never edit a released migration: add a new one. The store applies the ones
 * above `PRAGMA user_version` in one transaction at open.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE cursors (
    source TEXT NOT NULL, stream TEXT NOT NULL, cursor TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, stream)
  );
  CREATE TABLE seen (
    id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX seen_expiry ON seen (expires_at);
  CREATE TABLE snapshots (
    source TEXT NOT NULL, stream TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
    hash TEXT NOT NULL, event TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, stream, scope, key)
  );
  CREATE TABLE detector_state (
    rule TEXT NOT NULL, group_key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER,
    PRIMARY KEY (rule, group_key)
  );
  CREATE INDEX detector_state_expiry ON detector_state (expires_at);
  CREATE TABLE history (
    person TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    PRIMARY KEY (person, field, value)
  );
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL, body TEXT NOT NULL,
    first_time TEXT NOT NULL, last_time TEXT NOT NULL, count INTEGER NOT NULL, created_at INTEGER NOT NULL
  );
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL, receiver TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER, last_error TEXT,
    UNIQUE (alert_id, receiver)
  );
  CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
  CREATE TABLE locks (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL
  );
  CREATE TABLE stream_status (
    source TEXT NOT NULL, stream TEXT NOT NULL, last_success_at INTEGER, last_failure_at INTEGER,
    last_error TEXT, consecutive_failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, stream)
  );
  `,
  // 2: outbox rows sent together share a group key, so that a retry sends the same group under
  // the same idempotency key (webhook-id, Message-ID).
  `
  ALTER TABLE outbox ADD COLUMN group_key TEXT;
  CREATE INDEX outbox_group ON outbox (receiver, group_key);
  `,
];
