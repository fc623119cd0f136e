import http from 'node:http';
import type { AddressInfo } from 'node:net';
import cron from 'node-cron';
import { alertId, type Alert } from './alerts/alert.js';
import type { Clock } from './clock.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/store.js';

/**
 * The health server (DESIGN §7, reliability P9 "health means working"):
 * - `/healthz`: the process answers and the state database answers a query;
 * - `/readyz`: every enabled stream succeeded recently enough and its last run did not fail, and
 *   the oldest undelivered alert message is young enough; the body names what is behind;
 * - `/metrics`: Prometheus text.
 */

export interface WatchedStream {
  source: string;
  stream: string;
  schedule: string;
}

export interface ReadinessOptions {
  store: Store;
  clock: Clock;
  streams: readonly WatchedStream[];
  /** A stream is stale when its last success is older than this many schedule intervals. */
  staleIntervals: number;
  /** The oldest pending outbox row may be this old (ms) before Vigie is unready. */
  maxOutboxAgeMs: number;
  /** When this process started: a stream that has not run yet gets `staleIntervals` from here. */
  startedAt: number;
}

export interface Problem {
  kind: 'stream_failing' | 'stream_stale' | 'outbox_stale';
  /** `source/stream` or the receiver name. */
  subject: string;
  message: string;
  /** Stable per incident: what the once-only monitor alert is keyed on. */
  since: number;
}

export interface Readiness {
  ready: boolean;
  problems: Problem[];
  streams: Array<{ source: string; stream: string; interval_s: number; last_success_at: string | null; last_failure_at: string | null; consecutive_failures: number; ok: boolean }>;
  outbox: { pending: number; dead: number; oldest_pending_age_s: number | null };
}

const intervalCache = new Map<string, number>();

/**
 * The longest gap between two consecutive runs of a cron expression (node-cron, 5 or 6 fields),
 * in ms. For `0 3 * * *` that is a day; for `*\/5 * * * *` five minutes.
 */
export function cronIntervalMs(expr: string): number {
  const cached = intervalCache.get(expr);
  if (cached !== undefined) return cached;
  const task = cron.createTask(expr, () => undefined);
  try {
    const runs = task.getNextRuns(12).map((d) => d.getTime());
    let max = 0;
    for (let i = 1; i < runs.length; i++) max = Math.max(max, runs[i]! - runs[i - 1]!);
    const ms = max > 0 ? max : 60_000;
    intervalCache.set(expr, ms);
    return ms;
  } finally {
    void task.destroy();
  }
}

function human(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** Oldest pending outbox row per receiver (the store only knows the overall oldest). */
function oldestPendingPerReceiver(store: Store): Array<{ receiver: string; created_at: number }> {
  return store.db
    .prepare(`SELECT receiver, min(created_at) AS created_at FROM outbox WHERE status = 'pending' GROUP BY receiver ORDER BY created_at`)
    .all() as Array<{ receiver: string; created_at: number }>;
}

export function evaluateReadiness(opts: ReadinessOptions): Readiness {
  const { store, clock } = opts;
  const now = clock.now();
  const statuses = new Map(store.streamStatuses().map((s) => [`${s.source}/${s.stream}`, s]));
  const problems: Problem[] = [];
  const streams: Readiness['streams'] = [];
  for (const w of opts.streams) {
    const key = `${w.source}/${w.stream}`;
    const st = statuses.get(key);
    const interval = cronIntervalMs(w.schedule);
    const lastSuccess = st?.last_success_at ?? null;
    const lastFailure = st?.last_failure_at ?? null;
    let ok = true;
    if (lastFailure !== null && (lastSuccess === null || lastFailure > lastSuccess)) {
      // A run that failed after the last success: unready at once, not N intervals later.
      ok = false;
      const n = st?.consecutive_failures ?? 1;
      problems.push({
        kind: 'stream_failing',
        subject: key,
        since: lastSuccess ?? 0,
        message: `stream ${key} is failing: its last ${n === 1 ? 'run' : `${n} runs`} failed (${st?.last_error ?? 'unknown error'})${lastSuccess === null ? ', and it never succeeded' : `; last success ${human(now - lastSuccess)} ago`}`,
      });
    } else {
      const reference = Math.max(lastSuccess ?? 0, opts.startedAt);
      const limit = opts.staleIntervals * interval;
      if (now - reference > limit) {
        ok = false;
        problems.push({
          kind: 'stream_stale',
          subject: key,
          since: reference,
          message:
            lastSuccess === null || lastSuccess < opts.startedAt
              ? `stream ${key} has not completed a run since Vigie started ${human(now - opts.startedAt)} ago (schedule "${w.schedule}", allowed ${human(limit)})`
              : `stream ${key} last succeeded ${human(now - lastSuccess)} ago, more than ${opts.staleIntervals} × its interval of ${human(interval)}`,
        });
      }
    }
    streams.push({
      source: w.source,
      stream: w.stream,
      interval_s: interval / 1000,
      last_success_at: lastSuccess === null ? null : new Date(lastSuccess).toISOString(),
      last_failure_at: lastFailure === null ? null : new Date(lastFailure).toISOString(),
      consecutive_failures: st?.consecutive_failures ?? 0,
      ok,
    });
  }
  for (const r of oldestPendingPerReceiver(store)) {
    const age = now - r.created_at;
    if (age > opts.maxOutboxAgeMs) {
      problems.push({
        kind: 'outbox_stale',
        subject: r.receiver,
        since: r.created_at,
        message: `receiver ${r.receiver} is behind: its oldest undelivered alert message was queued ${human(age)} ago (allowed ${human(opts.maxOutboxAgeMs)})`,
      });
    }
  }
  const counts = store.outboxCounts();
  const oldest = store.oldestPendingCreatedAt();
  return {
    ready: problems.length === 0,
    problems,
    streams,
    outbox: { pending: counts.pending, dead: counts.dead, oldest_pending_age_s: oldest === undefined ? null : Math.round((now - oldest) / 1000) },
  };
}

export const STREAM_STALE_RULE = 'monitor.stream-stale';
export const OUTBOX_STALE_RULE = 'monitor.outbox-stale';

/**
 * Turns readiness problems into monitor alerts, once per incident: the alert id is keyed on the
 * incident's start (the stale stream's last success, the stuck row's queue time), so checking
 * every few seconds raises it once. Failing streams are left to the runner, which already turns
 * each failure streak into one `monitor` event for the rules.
 */
export function raiseMonitorAlerts(readiness: Readiness, deps: { store: Store; clock: Clock; receivers: readonly string[]; log: Logger }): string[] {
  const raised: string[] = [];
  const nowIso = new Date(deps.clock.now()).toISOString();
  for (const p of readiness.problems) {
    if (p.kind === 'stream_failing') continue;
    const rule = p.kind === 'stream_stale' ? STREAM_STALE_RULE : OUTBOX_STALE_RULE;
    const id = alertId(rule, p.subject, String(p.since));
    if (deps.store.getAlert(id)) continue;
    const [source] = p.subject.split('/');
    const alert: Alert = {
      id,
      rule,
      title: p.kind === 'stream_stale' ? `Vigie stopped reading ${p.subject}` : `Alerts are stuck for receiver ${p.subject}`,
      category: 'monitor',
      severity: 'high',
      status: 'firing',
      provider: 'vigie',
      ...(p.kind === 'stream_stale' && source ? { source } : {}),
      time: nowIso,
      last_time: nowIso,
      count: 1,
      summary: `Vigie is not working fully: ${p.message}.`,
      explanation: [p.message, 'While this lasts, Vigie is blind to what this part would have shown, or its alerts do not reach you.'],
      evidence: [],
      remediation:
        p.kind === 'stream_stale'
          ? ['Look at the Vigie log for this stream (component runner) and at /readyz.', 'Run `vigie doctor` to check the credentials, permissions and licences of the connector.']
          : [`Check receiver ${p.subject}: its URL, credentials and that the endpoint is up.`, `Then run \`vigie test-alert --receiver ${p.subject}\`.`],
    };
    // The stuck receiver would not carry news of itself; the others do.
    const to = p.kind === 'outbox_stale' ? deps.receivers.filter((r) => r !== p.subject) : [...deps.receivers];
    deps.store.transaction(() => {
      deps.store.upsertAlert(alert);
      for (const r of to) deps.store.enqueue(id, r);
    });
    deps.log.warn({ alert_id: id, rule, subject: p.subject }, 'Vigie raised a monitor alert about itself.');
    raised.push(id);
  }
  return raised;
}

export interface HealthServerOptions extends ReadinessOptions {
  listen: string;
  metrics?: Metrics;
  log: Logger;
}

export interface HealthServer {
  /** `host:port` actually bound (port 0 picks one). */
  address: string;
  url: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/i.exec(listen);
  if (!m) throw new Error(`"${listen}" is not host:port`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const log = opts.log.child({ component: 'server' });
  const send = (res: http.ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`);

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      try {
        if (url.pathname === '/healthz') {
          const row = opts.store.db.prepare('SELECT 1 AS ok').get() as { ok: number } | undefined;
          if (row?.ok !== 1) throw new Error('the state database gave no answer');
          return json(res, 200, { status: 'ok' });
        }
        if (url.pathname === '/readyz') {
          const r = evaluateReadiness(opts);
          return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'unready', problems: r.problems.map((p) => p.message), streams: r.streams, outbox: r.outbox });
        }
        if (url.pathname === '/metrics' && opts.metrics) {
          const body = await opts.metrics.registry.metrics();
          return send(res, 200, opts.metrics.registry.contentType, body);
        }
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
      } catch (err) {
        log.error({ error: errorMessage(err), path: url.pathname }, 'A health request failed.');
        return json(res, 503, { status: 'error', problems: [errorMessage(err)] });
      }
    })();
  });
  const { host, port } = parseListen(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  log.info({ listen: address }, 'Health server listening (/healthz, /readyz, /metrics).');
  return {
    address,
    url: `http://${address}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Checks readiness on a timer and raises the once-per-incident monitor alerts (the daemon's
 * watcher). Returns a stop function.
 */
export function watchReadiness(
  opts: ReadinessOptions & { receivers: readonly string[]; log: Logger; everyMs?: number; onAlert?: () => void },
): () => void {
  const tick = () => {
    try {
      const r = evaluateReadiness(opts);
      if (raiseMonitorAlerts(r, opts).length) opts.onAlert?.();
    } catch (err) {
      opts.log.error({ error: errorMessage(err) }, 'The readiness check failed.');
    }
  };
  const timer = setInterval(tick, opts.everyMs ?? 30_000);
  timer.unref();
  return () => clearInterval(timer);
}
