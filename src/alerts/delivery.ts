import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { failpoint } from '../pipeline/failpoint.js';
import type { Receiver, SendResult } from '../receivers/receiver.js';
import type { OutboxRow, Store } from '../store/store.js';
import { alertId, messageKey, type Alert } from './alert.js';
import { texts, type Locale } from './i18n.js';
import { plainText } from './sanitize.js';

export interface DeliveryOptions {
  store: Store;
  receivers: ReadonlyMap<string, Receiver>;
  clock: Clock;
  log: Logger;
  /** How long after an alert was queued we keep trying (Standard Webhooks: about 72 h). */
  retryBudgetMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Limit of one send, independent of the retry schedule (Alertmanager #2486). Default 30 s. */
  attemptTimeoutMs?: number;
  /** Jitter source in [0, 1); injectable for tests. */
  random?: () => number;
  /**
   * `delivery.group_wait`: a receiver's alerts queued within this long of the first one go out as
   * one message, sent when the window closes. 0 or unset: one alert per message, at once.
   */
  groupWaitMs?: number;
  /** Most alerts in one message (default 50); a bigger backlog goes out in several. */
  maxGroupSize?: number;
  /** Language of the monitor alerts the worker raises. */
  locale?: Locale;
}

export interface DeliverOptions {
  /** Send what is queued now, without waiting for group windows to close (`vigie once`, replay --notify). */
  flush?: boolean;
}

export interface DeliveryReport {
  delivered: number;
  retried: number;
  dead: number;
}

export interface DeliveryWorker {
  /**
   * One pass over the due outbox rows. Concurrent calls are serialised, never run in parallel.
   * Rows whose group window is still open wait for a later pass unless `flush` is set.
   * The report counts alerts (outbox rows), not messages.
   */
  deliverDue(signal?: AbortSignal, opts?: DeliverOptions): Promise<DeliveryReport>;
  /** Daemon loop: deliver, sleep until the next due row or a poke, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** New outbox rows were committed: deliver now rather than at the next timer. */
  poke(): void;
}

/** The rule of the meta-alert raised when a receiver's deliveries go to the dead letters. */
export const DELIVERY_FAILING_RULE = 'monitor.delivery-failing';

const BATCH = 200;
const MIN_BACKOFF_MS = 1000;
/** Longest sleep of the daemon loop: rows queued by another process (`vigie once`) get picked up. */
const IDLE_POLL_MS = 30_000;
const ERROR_PAUSE_MS = 5_000;
/** Rows that fell due during a pass are taken at once, but the loop never spins. */
const MIN_SLEEP_MS = 10;

type Outcome = keyof DeliveryReport | 'interrupted';

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function duration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** A receiver's answer, defended against receivers that break the never-throw contract. */
function checked(result: unknown): SendResult {
  const r = result as Partial<SendResult> | undefined;
  if (r?.status === 'ok') return { status: 'ok' };
  if (r?.status === 'permanent') return { status: 'permanent', reason: plainText((r as { reason?: unknown }).reason, 500) };
  if (r?.status === 'retryable') {
    const after = (r as { retryAfterMs?: unknown }).retryAfterMs;
    return {
      status: 'retryable',
      reason: plainText((r as { reason?: unknown }).reason, 500),
      ...(typeof after === 'number' && Number.isFinite(after) && after >= 0 ? { retryAfterMs: after } : {}),
    };
  }
  return { status: 'retryable', reason: 'the receiver gave no usable result' };
}

/**
 * The outbox worker: at-least-once delivery with exponential backoff and full jitter, a retry
 * budget, dead letters and a meta-alert on another receiver when a receiver stops working.
 *
 * While a receiver is failing, its later rows wait behind the one being retried: a down endpoint
 * gets one request per backoff step instead of one per queued alert, and alerts arrive in order
 * once it is back.
 */
export function createDeliveryWorker(opts: DeliveryOptions): DeliveryWorker {
  const { store, receivers, clock, log } = opts;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const groupWaitMs = Math.max(0, opts.groupWaitMs ?? 0);
  const maxGroupSize = Math.max(1, opts.maxGroupSize ?? 50);
  const t = texts(opts.locale);
  /** Receiver → time its head-of-line retry is due; its other rows wait until then. */
  const blockedUntil = new Map<string, number>();
  /** Outbox seq → retry time we scheduled: the daemon's next wake-up when some rows are held back. */
  const retryAt = new Map<number, number>();
  /** Earliest time a row held back in the last pass may be tried. */
  let heldBackUntil: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let wake: (() => void) | undefined;
  let poked = false;

  function backoffMs(attempt: number): number {
    const cap = Math.min(opts.maxBackoffMs, opts.initialBackoffMs * 2 ** Math.min(attempt - 1, 52));
    // Full jitter (AWS): uniform over [0, cap], with a floor so a down endpoint is never hammered.
    return Math.max(Math.min(MIN_BACKOFF_MS, cap), Math.floor(random() * cap));
  }

  async function sendOnce(receiver: Receiver, alerts: Alert[], attempt: number, stop?: AbortSignal): Promise<SendResult> {
    const timeout = AbortSignal.timeout(attemptTimeoutMs);
    const signal = stop ? AbortSignal.any([stop, timeout]) : timeout;
    let onAbort: (() => void) | undefined;
    // A receiver that ignores its signal must not stall the whole outbox.
    const aborted = new Promise<SendResult>((resolve) => {
      onAbort = () =>
        resolve({
          status: 'retryable',
          reason: timeout.aborted ? `no result within ${attemptTimeoutMs} ms` : 'delivery was interrupted by shutdown',
        });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const result = await Promise.race([receiver.send(alerts, { signal, attempt }), aborted]);
      return checked(result);
    } catch (err) {
      return { status: 'retryable', reason: `the receiver failed unexpectedly: ${plainText(errorMessage(err), 300)}` };
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  function metaAlert(row: OutboxRow, attempt: number, reason: string, exhausted: boolean): Alert {
    const name = row.receiver;
    const now = clock.now();
    const nowIso = new Date(now).toISOString();
    const id = alertId(DELIVERY_FAILING_RULE, name, utcDay(now));
    const previous = store.getAlert(id);
    const count = (previous?.count ?? 0) + 1;
    // Rule ids come from our rule files, but the row may be damaged: keep the meta-alert one line.
    const rule = plainText(row.alert.rule, 120);
    const how = t.meta.how(exhausted, duration(opts.retryBudgetMs));
    return {
      id,
      rule: DELIVERY_FAILING_RULE,
      title: t.meta.title(name),
      category: 'monitor',
      severity: 'high',
      status: 'firing',
      provider: 'vigie',
      time: previous?.time ?? nowIso,
      last_time: nowIso,
      count,
      summary: t.meta.summary(row.alert_id, rule, name, reason),
      explanation: [t.meta.explanation(row.alert_id, rule, name, how, attempt), t.meta.lastError(reason), t.meta.todayCount(count, name)],
      evidence: [{ event_id: row.alert_id, time: nowIso, kind: 'delivery', detail: reason }],
      remediation: t.meta.remediation(name, row.alert_id),
    };
  }

  /** Dead-letters a row and, in the same transaction, raises the meta-alert for the other receivers. */
  function bury(row: OutboxRow, attempt: number, reason: string, exhausted: boolean): void {
    const others = [...receivers.keys()].filter((r) => r !== row.receiver);
    // A meta-alert that cannot be delivered raises no meta-alert of its own: two broken receivers
    // would otherwise feed each other forever.
    const raise = row.alert.rule !== DELIVERY_FAILING_RULE;
    const meta = raise ? metaAlert(row, attempt, reason, exhausted) : undefined;
    store.transaction(() => {
      store.markDead(row.seq, reason);
      if (meta) {
        store.upsertAlert(meta);
        for (const r of others) store.enqueue(meta.id, r);
      }
    });
    log.error(
      { alert_id: row.alert_id, receiver: row.receiver, attempt, reason },
      'An alert could not be delivered and was moved to the dead letters.',
    );
    if (meta) {
      if (others.length) {
        log.warn({ alert_id: meta.id, receiver: row.receiver, notified: others }, 'A monitor alert about the failing receiver was queued for the other receivers.');
      } else {
        log.error({ alert_id: meta.id, receiver: row.receiver }, 'No other receiver is configured to carry the monitor alert about the failing receiver.');
      }
    }
  }

  /** What a log line says about the rows of one message. */
  function about(rows: OutboxRow[], attempt: number): Record<string, unknown> {
    const first = rows[0]!;
    return rows.length === 1
      ? { alert_id: first.alert_id, receiver: first.receiver, attempt }
      : { alert_ids: rows.map((r) => r.alert_id), group_key: first.group_key, receiver: first.receiver, attempt };
  }

  async function attemptGroup(rows: OutboxRow[], stop?: AbortSignal): Promise<Outcome> {
    const head = rows[0]!;
    const attempt = Math.max(...rows.map((r) => r.attempts)) + 1;
    const fields = about(rows, attempt);
    for (const r of rows) retryAt.delete(r.seq);
    const receiver = receivers.get(head.receiver);
    const result: SendResult = receiver
      ? await sendOnce(
          receiver,
          rows.map((r) => r.alert),
          attempt,
          stop,
        )
      : { status: 'permanent', reason: `receiver ${head.receiver} is not in the configuration` };

    if (result.status === 'ok') {
      failpoint('after_send_before_mark');
      store.transaction(() => {
        for (const r of rows) store.markDelivered(r.seq);
      });
      blockedUntil.delete(head.receiver);
      log.info({ ...fields, result: 'ok' }, rows.length === 1 ? 'Alert delivered.' : 'Alerts delivered as one message.');
      return 'delivered';
    }
    // Shutting down: leave the rows as they were; they are sent again (same id) after the restart.
    if (stop?.aborted) return 'interrupted';

    if (result.status === 'permanent') {
      log.warn({ ...fields, result: 'permanent', reason: result.reason }, 'Alert delivery failed permanently.');
      for (const r of rows) bury(r, attempt, result.reason, false);
      return 'dead';
    }
    const now = clock.now();
    const next = now + Math.max(result.retryAfterMs ?? 0, backoffMs(attempt));
    const created = Math.min(...rows.map((r) => r.created_at));
    if (next > created + opts.retryBudgetMs) {
      log.warn({ ...fields, result: 'retryable', reason: result.reason }, 'Alert delivery failed and its retry budget is spent.');
      for (const r of rows) bury(r, attempt, result.reason, true);
      // The endpoint is still failing: the next row in line waits its turn rather than following at once.
      blockedUntil.set(head.receiver, Math.min(next, now + opts.maxBackoffMs));
      return 'dead';
    }
    store.transaction(() => {
      for (const r of rows) store.markRetry(r.seq, next, result.reason);
    });
    blockedUntil.set(head.receiver, next);
    retryAt.set(head.seq, next);
    log.warn(
      { ...fields, result: 'retryable', reason: result.reason, next_attempt_at: new Date(next).toISOString() },
      'Alert delivery failed; it will be retried.',
    );
    return 'retried';
  }

  /**
   * The rows that go out with `row` as one message, or undefined while its group window is open.
   * A group is fixed (its key stored on the rows) before its first send, so that every retry
   * carries the same alerts under the same key.
   */
  function gather(row: OutboxRow, flush: boolean): OutboxRow[] | undefined {
    if (row.group_key !== null) {
      const members = store.groupDeliveries(row.receiver, row.group_key);
      return members.some((m) => m.seq === row.seq) ? members : [row];
    }
    // A row already tried alone (before grouping was enabled) keeps being sent alone.
    if (groupWaitMs === 0 || row.attempts > 0) return [row];
    const now = clock.now();
    const windowEnd = row.created_at + groupWaitMs;
    if (!flush && windowEnd > now) {
      heldBackUntil = Math.min(heldBackUntil ?? windowEnd, windowEnd);
      return undefined;
    }
    let members = store.ungroupedDeliveries(row.receiver, flush ? Math.max(now, windowEnd) : windowEnd, maxGroupSize);
    if (!members.some((m) => m.seq === row.seq)) members = [row, ...members].slice(0, maxGroupSize);
    const key = messageKey(members.map((m) => m.alert_id));
    store.setGroupKey(
      members.map((m) => m.seq),
      key,
    );
    return members.map((m) => ({ ...m, group_key: key }));
  }

  async function pass(stop: AbortSignal | undefined, flush: boolean): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: 0, retried: 0, dead: 0 };
    const done = new Set<number>();
    heldBackUntil = undefined;
    for (const [name, until] of blockedUntil) if (until <= clock.now()) blockedUntil.delete(name);
    for (;;) {
      // Rows held back stay due, so the window grows past them; new rows (meta-alerts, rows
      // committed meanwhile) are picked up in the same pass.
      const todo = store.dueDeliveries(done.size + BATCH).filter((r) => !done.has(r.seq));
      if (todo.length === 0) break;
      for (const row of todo) {
        if (stop?.aborted) return report;
        // Sent earlier in this pass as a member of another row's group.
        if (done.has(row.seq)) continue;
        done.add(row.seq);
        const until = blockedUntil.get(row.receiver);
        if (until !== undefined && until > clock.now()) {
          heldBackUntil = Math.min(heldBackUntil ?? until, until);
          continue;
        }
        const group = gather(row, flush);
        if (!group) continue;
        for (const g of group) done.add(g.seq);
        const outcome = await attemptGroup(group, stop);
        if (outcome === 'interrupted') return report;
        report[outcome] += group.length;
      }
    }
    return report;
  }

  function deliverDue(stop?: AbortSignal, dopts: DeliverOptions = {}): Promise<DeliveryReport> {
    const run = queue.then(() => pass(stop, dopts.flush === true));
    queue = run.catch(() => undefined);
    return run;
  }

  /** Milliseconds until something may be due. */
  function nextWait(): number {
    const now = clock.now();
    let next = store.nextDeliveryAt();
    if (next !== undefined && next <= now && heldBackUntil !== undefined) {
      // What is due waits behind failing receivers (so the store's earliest time is already
      // past): wake when the first of them may be tried, or for a retry of another receiver.
      next = heldBackUntil;
      for (const t of retryAt.values()) if (t > now && t < next) next = t;
    }
    if (next === undefined) return IDLE_POLL_MS;
    return Math.min(IDLE_POLL_MS, Math.max(MIN_SLEEP_MS, next - now));
  }

  function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (poked || signal.aborted) {
        poked = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake = undefined;
        poked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      wake = done;
    });
  }

  return {
    deliverDue,
    async run(signal) {
      while (!signal.aborted) {
        poked = false;
        let wait: number;
        try {
          await deliverDue(signal);
          wait = nextWait();
        } catch (err) {
          log.error({ err: errorMessage(err) }, 'The delivery worker failed; it will try again shortly.');
          wait = ERROR_PAUSE_MS;
        }
        if (signal.aborted) break;
        await sleep(wait, signal);
      }
    },
    poke() {
      poked = true;
      wake?.();
    },
  };
}
