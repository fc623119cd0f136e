import type { Alert } from '../alerts/alert.js';
import { routeAlert, type RouteConfig } from '../alerts/routing.js';
import { activeSilence, type Silence } from '../alerts/silences.js';
import type { Clock } from '../clock.js';
import type { DetectorStateIO, Engine } from '../engine/types.js';
import type { Enricher } from '../enrich/index.js';
import { eventTimeMs, type VigieEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { StateCache } from './state-cache.js';

export interface ProcessorOptions {
  store: Store;
  engine: Engine;
  enrich: Enricher;
  routes: RouteConfig[];
  /** Receivers alerts may be queued for; empty means alerts are recorded but not queued. */
  receivers: string[];
  clock: Clock;
  log: Logger;
  /** How long an event id is remembered: longer than every overlap and re-scan window. */
  seenTtlMs: number;
  /**
   * Keep detector state here instead of the store (a replay with no state file: nothing to
   * persist, and the store's JSON round trip would be most of the cost).
   */
  detectorState?: DetectorStateIO;
  /** Alerts matching an active silence are recorded but not queued. */
  silences?: readonly Silence[];
}

export interface ProcessResult {
  received: number;
  fresh: number;
  duplicates: number;
  /** Alerts fired by this batch: new ones and repeats of ones already recorded. */
  alerts: Alert[];
  /** Alert ids recorded for the first time (and queued for delivery). */
  newAlertIds: string[];
  /** The events that passed dedupe, as the connector gave them (metrics: kinds and lag). */
  freshEvents?: VigieEvent[];
}

export interface Processor {
  /**
   * Dedupe → enrich → rules → alerts → outbox, for one batch. Must be called inside a store
   * transaction together with the cursor update: a crash then replays the whole batch.
   * `learning(event)` says whether an event only feeds baselines.
   */
  process(events: VigieEvent[], learning: (e: VigieEvent) => boolean): ProcessResult;
}

export function createProcessor(opts: ProcessorOptions): Processor {
  const { store, engine, enrich, routes, receivers, clock, seenTtlMs } = opts;
  return {
    process(events, learning) {
      const fresh = store.markSeen(
        events.map((e) => e.id),
        clock.now() + seenTtlMs,
      );
      const cache = opts.detectorState ? undefined : new StateCache(store);
      const state = opts.detectorState ?? cache!;
      const alerts: Alert[] = [];
      const newAlertIds: string[] = [];
      // Rules see events in event time order within a batch; providers deliver out of order.
      const todo = events.filter((e) => fresh.delete(e.id)).sort((a, b) => eventTimeMs(a) - eventTimeMs(b));
      for (const event of todo) {
        const fired = engine.evaluate(enrich(event), { state, learning: learning(event) });
        for (const alert of fired) {
          alerts.push(alert);
          if (store.upsertAlert(alert)) {
            newAlertIds.push(alert.id);
            const silence = activeSilence(alert, opts.silences ?? [], clock.now());
            if (silence) opts.log.info({ alert_id: alert.id, rule: alert.rule, until: new Date(silence.until).toISOString() }, 'Alert recorded but not sent: a silence in the configuration covers it.');
            else for (const r of routeAlert(alert, routes, receivers)) store.enqueue(alert.id, r);
          }
        }
      }
      cache?.flush();
      return { received: events.length, fresh: todo.length, duplicates: events.length - todo.length, alerts, newAlertIds, freshEvents: todo };
    },
  };
}
