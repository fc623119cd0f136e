import { randomUUID } from 'node:crypto';
import type { Alert } from '../alerts/alert.js';
import type { Clock } from '../clock.js';
import { SourceError, VigieError, errorMessage } from '../errors.js';
import { eventTimeMs, type VigieEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { Connector, LogStream, StateStream, Stream, StreamContext } from './connector.js';
import { checkpointFailpoint, failpoint } from './failpoint.js';
import type { ProcessResult, Processor } from './process.js';
import { diffScope } from './snapshot-diff.js';

export interface RunnerOptions {
  store: Store;
  processor: Processor;
  clock: Clock;
  log: Logger;
  /** Called after each committed page that queued alerts, so delivery starts at once. */
  onCommit?: () => void;
  /** Called after every committed page (metrics): the events that passed dedupe and the new alerts. */
  onPage?: (page: PageReport) => void;
  /** Called when a run ends, whether it succeeded or failed (metrics). */
  onRun?: (run: { source: string; stream: string; ok: boolean; durationMs: number; error?: string }) => void;
  /**
   * How long delivered or dead alerts are kept (`state.history_days`, default 90 days). Expired
   * seen ids, detector state and old alerts are pruned after a successful run, at most hourly, so
   * that the database stays bounded.
   */
  retentionMs?: number;
}

export interface PageReport {
  source: string;
  stream: string;
  /** Events that passed dedupe (the page's fresh events). */
  events: readonly VigieEvent[];
  duplicates: number;
  /** Alerts recorded for the first time by this page. */
  newAlerts: readonly Alert[];
}

export interface StreamSettings {
  backfillMs: number;
  overlapMs: number;
  /** A first run's backfill only feeds baselines (default). Replays of exported files turn it off. */
  learnFromBackfill: boolean;
}

export interface RunReport {
  source: string;
  stream: string;
  pages: number;
  records: number;
  skipped: number;
  events: number;
  duplicates: number;
  newAlerts: number;
}

/** What the runner keeps around a connector's own cursor. */
interface StoredCursor {
  /** The connector's opaque cursor. */
  c: unknown;
  /** When the stream first ran: events older than this were backfill. */
  since: number;
}

const LOCK_TTL_MS = 30 * 60_000;
const DEFAULT_RETENTION_MS = 90 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Longer than the default backfill (7 d) plus the longest overlap (24 h): events this late still meet their state. */
export const STATE_LATENESS_MS = 8 * 86_400_000;

/** Lock owners are `<pid>-<uuid>`: a lock whose process no longer exists was left by a crash. */
export function lockHolderGone(holder: string): boolean {
  const pid = Number(holder.split('-', 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs one stream of one connector: the only place that owns locking, cursors, dedupe, the page
 * transaction and the failure bookkeeping (DESIGN §4). Connectors only fetch and translate.
 */
export class Runner {
  #opts: RunnerOptions;
  #owner = `${process.pid}-${randomUUID()}`;
  #lastPrune = Number.NEGATIVE_INFINITY;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
  }

  async runStream(connector: Connector, stream: Stream, settings: StreamSettings, signal: AbortSignal): Promise<RunReport> {
    const { store, log: rootLog } = this.#opts;
    const log = rootLog.child({ component: 'runner', source: connector.name, stream: stream.name });
    const lockName = `${connector.name}/${stream.name}`;
    if (!store.acquireLock(lockName, this.#owner, LOCK_TTL_MS, lockHolderGone)) {
      throw new VigieError('STREAM_LOCKED', `Stream ${lockName} is already running (another Vigie process holds its lock).`);
    }
    const ctx: StreamContext = {
      clock: this.#opts.clock,
      log,
      signal,
      backfillMs: settings.backfillMs,
      overlapMs: settings.overlapMs,
    };
    const started = this.#opts.clock.now();
    const ran = (ok: boolean, error?: string) =>
      this.#opts.onRun?.({ source: connector.name, stream: stream.name, ok, durationMs: this.#opts.clock.now() - started, ...(error !== undefined ? { error } : {}) });
    try {
      const report =
        stream.kind === 'log'
          ? await this.#runLog(connector, stream, ctx, settings)
          : await this.#runState(connector, stream, ctx);
      store.recordStreamResult(connector.name, stream.name);
      this.#maybePrune(log);
      const { source: _s, stream: _t, ...counts } = report;
      log.info(counts, 'Stream run finished.');
      ran(true);
      return report;
    } catch (err) {
      const message = errorMessage(err);
      store.recordStreamResult(connector.name, stream.name, message);
      this.#reportFailure(connector, stream, message);
      ran(false, message);
      log.error({ error: message, code: err instanceof VigieError ? err.code : undefined }, 'Stream run failed; its cursor did not move past the last committed page.');
      throw err instanceof VigieError ? err : new SourceError('SOURCE_FAILED', `${lockName}: ${message}`, { cause: err });
    } finally {
      store.releaseLock(lockName, this.#owner);
    }
  }

  async #runLog(connector: Connector, stream: LogStream, ctx: StreamContext, settings: StreamSettings): Promise<RunReport> {
    const { store, processor, clock } = this.#opts;
    const stored = store.getCursor(connector.name, stream.name) as StoredCursor | undefined;
    const since = stored?.since ?? clock.now();
    const learning = settings.learnFromBackfill ? (e: VigieEvent) => eventTimeMs(e) < since : () => false;
    const report = emptyReport(connector.name, stream.name);
    for await (const page of stream.pull(stored?.c, ctx)) {
      const events: VigieEvent[] = [];
      for (const record of page.records) {
        try {
          for (const e of stream.normalize(record)) events.push(e.source ? e : { ...e, source: connector.name });
        } catch (err) {
          // One malformed provider record must never stop the run or hide the others.
          report.skipped++;
          ctx.log.warn({ error: errorMessage(err) }, 'Skipped a record that could not be read.');
        }
      }
      const result = store.transaction(() => {
        const r = processor.process(events, learning);
        failpoint('after_detect_before_commit');
        store.setCursor(connector.name, stream.name, { c: page.cursor, since } satisfies StoredCursor);
        return r;
      });
      failpoint('after_commit_before_send');
      checkpointFailpoint(() => store.db.pragma('wal_checkpoint(TRUNCATE)'));
      report.pages++;
      report.records += page.records.length;
      report.events += result.fresh;
      report.duplicates += result.duplicates;
      report.newAlerts += result.newAlertIds.length;
      if (result.newAlertIds.length) this.#opts.onCommit?.();
      this.#pageDone(connector, stream, result);
      // SIGTERM: the page in hand is committed; stop before fetching the next one.
      if (ctx.signal.aborted) break;
    }
    return report;
  }

  async #runState(connector: Connector, stream: StateStream, ctx: StreamContext): Promise<RunReport> {
    const { store, processor, clock } = this.#opts;
    const first = store.getCursor(connector.name, stream.name) === undefined;
    const report = emptyReport(connector.name, stream.name);
    for await (const scope of stream.snapshot(ctx)) {
      const observedAt = new Date(clock.now()).toISOString();
      const objects = scope.objects.map((o) => ({ ...o, event: { ...o.event, source: connector.name } }));
      const result = store.transaction(() => {
        const previous = store.getSnapshot(connector.name, stream.name, scope.scope);
        const diff = diffScope({ stream: stream.name, scope: scope.scope, objects, previous, first, observedAt });
        const r = processor.process(diff.events, () => false);
        for (const u of diff.upserts) store.putSnapshotObject(connector.name, stream.name, scope.scope, u.key, u.row);
        for (const k of diff.removals) store.deleteSnapshotObject(connector.name, stream.name, scope.scope, k);
        failpoint('after_detect_before_commit');
        return r;
      });
      failpoint('after_commit_before_send');
      report.pages++;
      report.records += scope.objects.length;
      report.events += result.fresh;
      report.duplicates += result.duplicates;
      report.newAlerts += result.newAlertIds.length;
      if (result.newAlertIds.length) this.#opts.onCommit?.();
      this.#pageDone(connector, stream, result);
      if (ctx.signal.aborted) return report;
    }
    // Only a complete snapshot ends the onboarding audit: an interrupted first run stays "first".
    store.setCursor(connector.name, stream.name, { snapshot_at: new Date(clock.now()).toISOString() });
    return report;
  }

  /** Nothing else ever deletes rows: without this the database grows for ever (issue 11). */
  #maybePrune(log: Logger): void {
    const now = this.#opts.clock.now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    try {
      // Detector state expires in event time: late records (a blob hours late, a first run's
      // backfill) still need it, so it is kept well past its expiry before it goes.
      const pruned = this.#opts.store.prune(this.#opts.retentionMs ?? DEFAULT_RETENTION_MS, now - STATE_LATENESS_MS);
      if (pruned.seen || pruned.state || pruned.alerts) log.debug(pruned, 'Pruned expired state.');
    } catch (err) {
      log.warn({ error: errorMessage(err) }, 'Pruning expired state failed; it will be tried again.');
    }
  }

  #pageDone(connector: Connector, stream: Stream, result: ProcessResult): void {
    const onPage = this.#opts.onPage;
    if (!onPage) return;
    try {
      const fresh = new Set(result.newAlertIds);
      onPage({
        source: connector.name,
        stream: stream.name,
        events: result.freshEvents ?? [],
        duplicates: result.duplicates,
        newAlerts: result.alerts.filter((a) => fresh.delete(a.id)),
      });
    } catch (err) {
      this.#opts.log.warn({ error: errorMessage(err) }, 'A page observer failed; the page itself is committed.');
    }
  }

  /**
   * A failing stream is itself an event: rules (monitor.*) decide whether it is worth an alert.
   * One id per failure streak, so a stream failing every poll raises it once.
   */
  #reportFailure(connector: Connector, stream: Stream, message: string): void {
    const { store, processor, clock } = this.#opts;
    try {
      const status = store.streamStatuses().find((s) => s.source === connector.name && s.stream === stream.name);
      const failures = status?.consecutive_failures ?? 1;
      const streakStart = (status?.last_success_at ?? 0).toString(36);
      const event: VigieEvent = {
        id: `vigie:monitor:${connector.name}:${stream.name}:failing:${streakStart}`,
        kind: 'monitor',
        time: new Date(clock.now()).toISOString(),
        provider: 'vigie',
        source: connector.name,
        account: '',
        details: { type: 'source_failing', connector_type: connector.type, stream: stream.name, error: message, consecutive_failures: failures },
      };
      store.transaction(() => processor.process([event], () => false));
    } catch (err) {
      this.#opts.log.error({ error: errorMessage(err) }, 'Could not record the stream failure as a monitor event.');
    }
  }
}

function emptyReport(source: string, stream: string): RunReport {
  return { source, stream, pages: 0, records: 0, skipped: 0, events: 0, duplicates: 0, newAlerts: 0 };
}
