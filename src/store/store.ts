import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Alert } from '../alerts/alert.js';
import type { Clock } from '../clock.js';
import { StoreError, errorMessage } from '../errors.js';
import { MIGRATIONS } from './migrations.js';

export interface StoreOptions {
  /** A file path, or `:memory:` for replay and tests. */
  path: string;
  clock: Clock;
}

export interface SnapshotRow {
  hash: string;
  event: string;
}

export interface OutboxRow {
  seq: number;
  alert_id: string;
  receiver: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  /** Set when the row was first sent as part of a group; the group is retried as a whole. */
  group_key: string | null;
  alert: Alert;
}

export interface StreamStatus {
  source: string;
  stream: string;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_error: string | null;
  consecutive_failures: number;
}

/**
 * Vigie's state in one SQLite file. Every method is synchronous (better-sqlite3), so a caller can
 * group several into one `transaction()` — the runner commits a page's seen ids, detector state,
 * alerts, outbox rows and cursor together.
 */
export class Store {
  readonly db: Database.Database;
  readonly path: string;
  #clock: Clock;
  #statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, p: string, clock: Clock) {
    this.db = db;
    this.path = p;
    this.#clock = clock;
  }

  static open(opts: StoreOptions): Store {
    const memory = opts.path === ':memory:';
    if (!memory) fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(opts.path);
    } catch (err) {
      throw new StoreError('STORE_FAILED', `Cannot open the state database ${opts.path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      // quick_check first: a damaged file must stop us before anything writes to it.
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
    } catch (err) {
      db.close();
      throw new StoreError(
        'STORE_CORRUPT',
        `The state database ${opts.path} is damaged (${errorMessage(err)}). Vigie will not reset it: ` +
          'restore it from a backup, or move it away to start with empty state (cursors restart from the backfill).',
        { cause: err },
      );
    }
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const store = new Store(db, opts.path, opts.clock);
    store.#migrate();
    return store;
  }

  #migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new StoreError(
        'STORE_FAILED',
        `The state database ${this.path} was written by a newer Vigie (schema ${current}, this one knows ${MIGRATIONS.length}).`,
      );
    }
    this.transaction(() => {
      for (let v = current; v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
  }

  /** Prepared once per SQL text: preparing is most of the cost of a small statement. */
  #sql(sql: string): Database.Statement {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  /**
   * Runs `fn` in one transaction; a nested call joins the outer one. (better-sqlite3's own
   * `db.transaction()` prepares its statements on every call, which dominated a page's cost.)
   */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.#sql('BEGIN').run();
    try {
      const result = fn();
      this.#sql('COMMIT').run();
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.#sql('ROLLBACK').run();
      throw err;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- cursors -------------------------------------------------------------------------------

  getCursor(source: string, stream: string): unknown | undefined {
    const row = this.#sql('SELECT cursor FROM cursors WHERE source = ? AND stream = ?').get(source, stream) as
      | { cursor: string }
      | undefined;
    return row ? JSON.parse(row.cursor) : undefined;
  }

  setCursor(source: string, stream: string, cursor: unknown): void {
    this.db
      .prepare(
        `INSERT INTO cursors (source, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (source, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
      )
      .run(source, stream, JSON.stringify(cursor ?? null), this.#clock.now());
  }

  // ---- seen event ids ------------------------------------------------------------------------

  /** Records the ids and returns the ones not seen before (the rest are replays or overlaps). */
  markSeen(ids: string[], expiresAt: number): Set<string> {
    const insert = this.#sql('INSERT INTO seen (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)');
    const exists = this.#sql('SELECT 1 FROM seen WHERE id = ?');
    const fresh = new Set<string>();
    for (const id of ids) {
      if (!fresh.has(id) && !exists.get(id)) fresh.add(id);
      insert.run(id, expiresAt);
    }
    return fresh;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  getSnapshot(source: string, stream: string, scope: string): Map<string, SnapshotRow> {
    const rows = this.db
      .prepare('SELECT key, hash, event FROM snapshots WHERE source = ? AND stream = ? AND scope = ?')
      .all(source, stream, scope) as Array<{ key: string } & SnapshotRow>;
    return new Map(rows.map((r) => [r.key, { hash: r.hash, event: r.event }]));
  }

  hasSnapshot(source: string, stream: string): boolean {
    return !!this.#sql('SELECT 1 FROM snapshots WHERE source = ? AND stream = ? LIMIT 1').get(source, stream);
  }

  putSnapshotObject(source: string, stream: string, scope: string, key: string, row: SnapshotRow): void {
    this.db
      .prepare(
        `INSERT INTO snapshots (source, stream, scope, key, hash, event, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (source, stream, scope, key) DO UPDATE SET hash = excluded.hash, event = excluded.event, updated_at = excluded.updated_at`,
      )
      .run(source, stream, scope, key, row.hash, row.event, this.#clock.now());
  }

  deleteSnapshotObject(source: string, stream: string, scope: string, key: string): void {
    this.#sql('DELETE FROM snapshots WHERE source = ? AND stream = ? AND scope = ? AND key = ?').run(source, stream, scope, key);
  }

  // ---- detector state ------------------------------------------------------------------------

  getDetectorState(rule: string, groupKey: string): unknown {
    const row = this.#sql('SELECT value FROM detector_state WHERE rule = ? AND group_key = ?').get(rule, groupKey) as
      | { value: string }
      | undefined;
    return row ? JSON.parse(row.value) : undefined;
  }

  setDetectorState(rule: string, groupKey: string, value: unknown, expiresAt: number | null): void {
    if (value === undefined) {
      this.#sql('DELETE FROM detector_state WHERE rule = ? AND group_key = ?').run(rule, groupKey);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO detector_state (rule, group_key, value, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (rule, group_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      )
      .run(rule, groupKey, JSON.stringify(value), expiresAt);
  }

  // ---- alerts and outbox ---------------------------------------------------------------------

  /** Inserts a new alert or updates the one with the same id. Returns true when it is new. */
  upsertAlert(alert: Alert): boolean {
    const existing = this.#sql('SELECT 1 FROM alerts WHERE id = ?').get(alert.id);
    if (existing) {
      this.db
        .prepare('UPDATE alerts SET body = ?, last_time = ?, count = ?, severity = ? WHERE id = ?')
        .run(JSON.stringify(alert), alert.last_time, alert.count, alert.severity, alert.id);
      return false;
    }
    this.db
      .prepare('INSERT INTO alerts (id, rule, severity, body, first_time, last_time, count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(alert.id, alert.rule, alert.severity, JSON.stringify(alert), alert.time, alert.last_time, alert.count, this.#clock.now());
    return true;
  }

  /** The alert table's high-water mark, so a caller can list the alerts a run added. */
  lastAlertRowid(): number {
    const row = this.#sql('SELECT max(rowid) AS r FROM alerts').get() as { r: number | null };
    return row.r ?? 0;
  }

  /** Alerts added after `rowid`, oldest first, in their latest state. */
  alertsAfter(rowid: number): Alert[] {
    const rows = this.#sql('SELECT body FROM alerts WHERE rowid > ? ORDER BY rowid').all(rowid) as Array<{ body: string }>;
    return rows.map((r) => JSON.parse(r.body) as Alert);
  }

  getAlert(id: string): Alert | undefined {
    const row = this.#sql('SELECT body FROM alerts WHERE id = ?').get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Alert) : undefined;
  }

  enqueue(alertId: string, receiver: string): void {
    const now = this.#clock.now();
    this.db
      .prepare(
        `INSERT INTO outbox (alert_id, receiver, status, attempts, created_at, next_attempt_at)
         VALUES (?, ?, 'pending', 0, ?, ?) ON CONFLICT (alert_id, receiver) DO NOTHING`,
      )
      .run(alertId, receiver, now, now);
  }

  /** Pending deliveries whose time has come, oldest first. */
  dueDeliveries(limit = 100, receivers?: readonly string[]): OutboxRow[] {
    const rows = this.db
      .prepare(
        `SELECT o.seq, o.alert_id, o.receiver, o.attempts, o.created_at, o.next_attempt_at, o.group_key, a.body
         FROM outbox o JOIN alerts a ON a.id = o.alert_id
         WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.seq LIMIT ?`,
      )
      .all(this.#clock.now(), limit) as Array<Omit<OutboxRow, 'alert'> & { body: string }>;
    return rows
      .filter((r) => !receivers || receivers.includes(r.receiver))
      .map(({ body, ...r }) => ({ ...r, alert: JSON.parse(body) as Alert }));
  }

  /** The pending rows of one receiver's group, in queue order, with the alerts as stored now. */
  groupDeliveries(receiver: string, groupKey: string): OutboxRow[] {
    const rows = this.#sql(
      `SELECT o.seq, o.alert_id, o.receiver, o.attempts, o.created_at, o.next_attempt_at, o.group_key, a.body
       FROM outbox o JOIN alerts a ON a.id = o.alert_id
       WHERE o.status = 'pending' AND o.receiver = ? AND o.group_key = ? ORDER BY o.seq`,
    ).all(receiver, groupKey) as Array<Omit<OutboxRow, 'alert'> & { body: string }>;
    return rows.map(({ body, ...r }) => ({ ...r, alert: JSON.parse(body) as Alert }));
  }

  /**
   * Pending rows of one receiver never sent yet and in no group, created at or before
   * `createdUpTo`, in queue order: the candidates for the next group.
   */
  ungroupedDeliveries(receiver: string, createdUpTo: number, limit: number): OutboxRow[] {
    const rows = this.#sql(
      `SELECT o.seq, o.alert_id, o.receiver, o.attempts, o.created_at, o.next_attempt_at, o.group_key, a.body
       FROM outbox o JOIN alerts a ON a.id = o.alert_id
       WHERE o.status = 'pending' AND o.receiver = ? AND o.group_key IS NULL AND o.attempts = 0 AND o.created_at <= ?
       ORDER BY o.seq LIMIT ?`,
    ).all(receiver, createdUpTo, limit) as Array<Omit<OutboxRow, 'alert'> & { body: string }>;
    return rows.map(({ body, ...r }) => ({ ...r, alert: JSON.parse(body) as Alert }));
  }

  /** Fixes the membership of a group before its first send. */
  setGroupKey(seqs: readonly number[], groupKey: string): void {
    const st = this.#sql('UPDATE outbox SET group_key = ? WHERE seq = ?');
    this.transaction(() => {
      for (const seq of seqs) st.run(groupKey, seq);
    });
  }

  /** The earliest `next_attempt_at` of a pending delivery, for the worker's timer. */
  nextDeliveryAt(): number | undefined {
    const row = this.#sql(`SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'pending'`).get() as { t: number | null };
    return row.t ?? undefined;
  }

  oldestPendingCreatedAt(): number | undefined {
    const row = this.#sql(`SELECT min(created_at) AS t FROM outbox WHERE status = 'pending'`).get() as { t: number | null };
    return row.t ?? undefined;
  }

  markDelivered(seq: number): void {
    this.db
      .prepare(`UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE seq = ?`)
      .run(this.#clock.now(), seq);
  }

  markRetry(seq: number, nextAttemptAt: number, error: string): void {
    this.db
      .prepare(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?`)
      .run(nextAttemptAt, error.slice(0, 1000), seq);
  }

  markDead(seq: number, error: string): void {
    this.db
      .prepare(`UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE seq = ?`)
      .run(error.slice(0, 1000), seq);
  }

  outboxCounts(): Record<'pending' | 'delivered' | 'dead', number> {
    const rows = this.#sql('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as Array<{ status: string; n: number }>;
    const out = { pending: 0, delivered: 0, dead: 0 };
    for (const r of rows) out[r.status as keyof typeof out] = r.n;
    return out;
  }

  // ---- locks ---------------------------------------------------------------------------------

  /**
   * A lease: two processes (a `vigie run` and a `vigie once`) never run one stream at once.
   * `isStale` lets the caller free a lock whose holder is known to be gone (killed mid-run).
   */
  acquireLock(name: string, owner: string, ttlMs: number, isStale: (holder: string) => boolean = () => false): boolean {
    const now = this.#clock.now();
    return this.transaction(() => {
      const held = this.#sql('SELECT owner FROM locks WHERE name = ?').get(name) as { owner: string } | undefined;
      if (held && held.owner !== owner && isStale(held.owner)) this.#sql('DELETE FROM locks WHERE name = ?').run(name);
      this.#sql('DELETE FROM locks WHERE name = ? AND (expires_at <= ? OR owner = ?)').run(name, now, owner);
      const r = this.#sql('INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(name, owner, now + ttlMs);
      return r.changes === 1;
    });
  }

  releaseLock(name: string, owner: string): void {
    this.#sql('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
  }

  // ---- stream status -------------------------------------------------------------------------

  recordStreamResult(source: string, stream: string, error?: string): void {
    const now = this.#clock.now();
    if (error === undefined) {
      this.db
        .prepare(
          `INSERT INTO stream_status (source, stream, last_success_at, consecutive_failures) VALUES (?, ?, ?, 0)
           ON CONFLICT (source, stream) DO UPDATE SET last_success_at = excluded.last_success_at, consecutive_failures = 0`,
        )
        .run(source, stream, now);
    } else {
      this.db
        .prepare(
          `INSERT INTO stream_status (source, stream, last_failure_at, last_error, consecutive_failures) VALUES (?, ?, ?, ?, 1)
           ON CONFLICT (source, stream) DO UPDATE SET last_failure_at = excluded.last_failure_at,
             last_error = excluded.last_error, consecutive_failures = consecutive_failures + 1`,
        )
        .run(source, stream, now, error.slice(0, 1000));
    }
  }

  streamStatuses(): StreamStatus[] {
    return this.#sql('SELECT * FROM stream_status ORDER BY source, stream').all() as StreamStatus[];
  }

  // ---- retention -----------------------------------------------------------------------------

  /**
   * Drops what can no longer matter: expired seen ids and detector state (their owners set the
   * expiry), and delivered or dead deliveries and their alerts older than `keepMs`.
   */
  prune(keepMs: number, eventTimeNow?: number): { seen: number; state: number; alerts: number } {
    const now = this.#clock.now();
    return this.transaction(() => {
      const seen = this.#sql('DELETE FROM seen WHERE expires_at <= ?').run(now).changes;
      const state = this.db
        .prepare('DELETE FROM detector_state WHERE expires_at IS NOT NULL AND expires_at <= ?')
        .run(eventTimeNow ?? now).changes;
      const cutoff = now - keepMs;
      this.#sql(`DELETE FROM outbox WHERE status != 'pending' AND created_at <= ?`).run(cutoff);
      const alerts = this.db
        .prepare(`DELETE FROM alerts WHERE created_at <= ? AND id NOT IN (SELECT alert_id FROM outbox)`)
        .run(cutoff).changes;
      return { seen, state, alerts };
    });
  }
}
