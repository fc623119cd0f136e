import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Alert } from './alerts/alert.js';
import type { Clock } from './clock.js';
import { eventTimeMs, type VigieEvent } from './events.js';
import type { Receiver, SendResult } from './receivers/receiver.js';
import type { Store } from './store/store.js';

/**
 * Prometheus metrics of one Vigie process (served on /metrics). Counters are fed by the runner's
 * `onPage` hook and by wrapping the receivers; gauges that describe state (outbox depth, last
 * success per stream) are read from the store at scrape time, so they are right even when
 * another process (`vigie once`) wrote the state.
 */
export interface Metrics {
  registry: Registry;
  /** One committed page: the fresh events, and the alerts it recorded for the first time. */
  observePage(page: { source: string; stream: string; events: readonly VigieEvent[]; duplicates: number; newAlerts: readonly Alert[] }): void;
  observeRun(run: { source: string; stream: string; ok: boolean; durationMs: number }): void;
  observeDelivery(receiver: string, result: SendResult['status'] | 'error'): void;
}

/** Ingestion lag buckets, seconds: a minute up to the Management API's worst days. */
const LAG_BUCKETS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400];

export function createMetrics(opts: { store: Store; clock: Clock; defaultMetrics?: boolean }): Metrics {
  const { store, clock } = opts;
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'vigie_' });

  const events = new Counter({
    name: 'vigie_events_ingested_total',
    help: 'Events that passed dedupe and reached the rules, per connector (source), stream and event kind.',
    labelNames: ['source', 'stream', 'kind'] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'vigie_events_duplicate_total',
    help: 'Events dropped by dedupe (overlap windows and replays re-read them on purpose).',
    labelNames: ['source', 'stream'] as const,
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'vigie_ingestion_lag_seconds',
    help: 'Ingestion time minus provider event time, per connector and stream: how late providers deliver.',
    labelNames: ['source', 'stream'] as const,
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const alerts = new Counter({
    name: 'vigie_alerts_total',
    help: 'Alerts recorded for the first time, per rule and severity.',
    labelNames: ['rule', 'severity'] as const,
    registers: [registry],
  });
  const runs = new Counter({
    name: 'vigie_stream_runs_total',
    help: 'Stream runs, per connector, stream and result (ok, failed).',
    labelNames: ['source', 'stream', 'result'] as const,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'vigie_stream_run_duration_seconds',
    help: 'How long one run of a stream took.',
    labelNames: ['source', 'stream'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'vigie_deliveries_total',
    help: 'Delivery attempts per receiver and result (ok, retryable, permanent, error).',
    labelNames: ['receiver', 'result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'vigie_outbox_depth',
    help: 'Outbox rows per status: pending (waiting for delivery or a retry), dead (gave up).',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const c = store.outboxCounts();
      this.set({ status: 'pending' }, c.pending);
      this.set({ status: 'dead' }, c.dead);
    },
  });
  new Gauge({
    name: 'vigie_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest undelivered alert message; 0 when the outbox is empty.',
    registers: [registry],
    collect() {
      const t = store.oldestPendingCreatedAt();
      this.set(t === undefined ? 0 : Math.max(0, (clock.now() - t) / 1000));
    },
  });
  new Gauge({
    name: 'vigie_stream_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run of each stream.',
    labelNames: ['source', 'stream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of store.streamStatuses()) {
        if (s.last_success_at !== null) this.set({ source: s.source, stream: s.stream }, s.last_success_at / 1000);
      }
    },
  });
  new Gauge({
    name: 'vigie_stream_consecutive_failures',
    help: 'Failed runs of each stream since its last success.',
    labelNames: ['source', 'stream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of store.streamStatuses()) this.set({ source: s.source, stream: s.stream }, s.consecutive_failures);
    },
  });

  return {
    registry,
    observePage(p) {
      const now = clock.now();
      for (const e of p.events) {
        events.inc({ source: p.source, stream: p.stream, kind: e.kind });
        const t = eventTimeMs(e);
        if (Number.isFinite(t)) lag.observe({ source: p.source, stream: p.stream }, Math.max(0, (now - t) / 1000));
      }
      if (p.duplicates) duplicates.inc({ source: p.source, stream: p.stream }, p.duplicates);
      for (const a of p.newAlerts) alerts.inc({ rule: a.rule, severity: a.severity });
    },
    observeRun(r) {
      runs.inc({ source: r.source, stream: r.stream, result: r.ok ? 'ok' : 'failed' });
      runDuration.observe({ source: r.source, stream: r.stream }, r.durationMs / 1000);
    },
    observeDelivery(receiver, result) {
      deliveries.inc({ receiver, result });
    },
  };
}

/** Wraps every receiver in place so each send is counted; the delivery worker reads the same map. */
export function instrumentReceivers(receivers: Map<string, Receiver>, metrics: Metrics): void {
  for (const [name, r] of receivers) {
    receivers.set(name, {
      name: r.name,
      type: r.type,
      send: async (alerts, ctx) => {
        try {
          const result = await r.send(alerts, ctx);
          metrics.observeDelivery(name, result?.status ?? 'error');
          return result;
        } catch (err) {
          metrics.observeDelivery(name, 'error');
          throw err;
        }
      },
    });
  }
}
