import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { failpoint } from '../pipeline/failpoint.js';
import type { Receiver, SendResult } from '../receivers/receiver.js';
import type { OutboxRow, Store } from '../store/store.js';
import { alertId, type Alert } from './alert.js';
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
}

export interface DeliveryReport {
  delivered: number;
  retried: number;
  dead: number;
}

export interface DeliveryWorker {
  /** One pass over the due outbox rows. Concurrent calls are serialised, never run in parallel. */
  deliverDue(signal?: AbortSignal): Promise<DeliveryReport>;
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

  async function sendOnce(receiver: Receiver, row: OutboxRow, attempt: number, stop?: AbortSignal): Promise<SendResult> {
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
      const result = await Promise.race([receiver.send([row.alert], { signal, attempt }), aborted]);
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
    const how = exhausted
      ? `still failing when its retry budget of ${duration(opts.retryBudgetMs)} ran out`
      : 'failed with an error that retrying cannot fix';
    return {
      id,
      rule: DELIVERY_FAILING_RULE,
      title: `Alerts cannot be delivered to receiver ${name}`,
      category: 'monitor',
      severity: 'high',
      status: 'firing',
      provider: 'vigie',
      time: previous?.time ?? nowIso,
      last_time: nowIso,
      count,
      summary: `Vigie gave up delivering alert ${row.alert_id} (${row.alert.rule}) to receiver ${name}: ${reason}`,
      explanation: [
        `Delivery of alert ${row.alert_id} (rule ${row.alert.rule}) to receiver ${name} ${how}, after ${attempt} attempt${attempt === 1 ? '' : 's'}.`,
        `Last error: ${reason}`,
        `${count} alert${count === 1 ? '' : 's'} for receiver ${name} went to the dead letters today (UTC); they were not delivered there.`,
      ],
      evidence: [{ event_id: row.alert_id, time: nowIso, kind: 'delivery', detail: reason }],
      remediation: [
        `Check receiver ${name} in the configuration: its URL, credentials or secret, and that the endpoint is up and accepts the requests.`,
        `Once fixed, run \`vigie test-alert --receiver ${name}\` to check that delivery works.`,
        `Review the undelivered alerts (alert ${row.alert_id} and any others in the dead letters) so that nothing they reported is missed.`,
      ],
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

  async function attemptRow(row: OutboxRow, stop?: AbortSignal): Promise<Outcome> {
    const attempt = row.attempts + 1;
    const fields = { alert_id: row.alert_id, receiver: row.receiver, attempt };
    retryAt.delete(row.seq);
    const receiver = receivers.get(row.receiver);
    const result: SendResult = receiver
      ? await sendOnce(receiver, row, attempt, stop)
      : { status: 'permanent', reason: `receiver ${row.receiver} is not in the configuration` };

    if (result.status === 'ok') {
      failpoint('after_send_before_mark');
      store.markDelivered(row.seq);
      blockedUntil.delete(row.receiver);
      log.info({ ...fields, result: 'ok' }, 'Alert delivered.');
      return 'delivered';
    }
    // Shutting down: leave the row as it was; it is sent again (same id) after the restart.
    if (stop?.aborted) return 'interrupted';

    if (result.status === 'permanent') {
      log.warn({ ...fields, result: 'permanent', reason: result.reason }, 'Alert delivery failed permanently.');
      bury(row, attempt, result.reason, false);
      return 'dead';
    }
    const now = clock.now();
    const next = now + Math.max(result.retryAfterMs ?? 0, backoffMs(attempt));
    if (next > row.created_at + opts.retryBudgetMs) {
      log.warn({ ...fields, result: 'retryable', reason: result.reason }, 'Alert delivery failed and its retry budget is spent.');
      bury(row, attempt, result.reason, true);
      // The endpoint is still failing: the next row in line waits its turn rather than following at once.
      blockedUntil.set(row.receiver, Math.min(next, now + opts.maxBackoffMs));
      return 'dead';
    }
    store.markRetry(row.seq, next, result.reason);
    blockedUntil.set(row.receiver, next);
    retryAt.set(row.seq, next);
    log.warn(
      { ...fields, result: 'retryable', reason: result.reason, next_attempt_at: new Date(next).toISOString() },
      'Alert delivery failed; it will be retried.',
    );
    return 'retried';
  }

  async function pass(stop?: AbortSignal): Promise<DeliveryReport> {
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
        done.add(row.seq);
        const until = blockedUntil.get(row.receiver);
        if (until !== undefined && until > clock.now()) {
          heldBackUntil = Math.min(heldBackUntil ?? until, until);
          continue;
        }
        const outcome = await attemptRow(row, stop);
        if (outcome === 'interrupted') return report;
        report[outcome]++;
      }
    }
    return report;
  }

  function deliverDue(stop?: AbortSignal): Promise<DeliveryReport> {
    const run = queue.then(() => pass(stop));
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
