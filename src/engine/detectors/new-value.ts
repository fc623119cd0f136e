import { z } from 'zod';
import { eventTime } from '../event-time.js';
import { compileAccessor, type Accessor } from '../event-paths.js';
import { evidenceOf } from '../evidence.js';
import { formatDuration, listText } from '../text.js';
import { durationOrZeroParam, durationParam, eventPathParam } from './params.js';
import type { Predicate } from '../conditions.js';
import { parseParams, type Detector } from './types.js';

const schema = z.strictObject({
  /** The event path whose values are learned per group (`geo.country`, `network.asn`, `details.client`). */
  field: eventPathParam,
  /** A value not seen for this long is new again. */
  lookback: durationParam.prefault('90d'),
  /** Silent until the group's history spans this much event time. */
  min_history: durationOrZeroParam.prefault('7d'),
  /** Values kept per group; the least recently seen go first. */
  max_values: z.number().int().min(1).max(10_000).default(200),
  /**
   * Learn from every event that passes `when`, but only report a new value on events that also
   * pass these conditions (learn IPs from sign-ins, alert on a download from a new one).
   */
  alert_if: z.record(z.string(), z.unknown()).optional(),
  /**
   * A value first seen less than this long ago still counts as new (default 0: new only the first
   * time). With `alert_if`, the attacker's own sign-in from an address must not make the download
   * that follows it from the same address look familiar.
   */
  new_for: durationOrZeroParam.prefault('0s'),
});

export interface NewValueParams {
  field: string;
  read: Accessor;
  lookbackMs: number;
  minHistoryMs: number;
  maxValues: number;
  alertIf?: Predicate;
  newForMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * `first`: earliest event time of the group. `vals`: [value, last seen] pairs within the lookback,
 * with the first-seen time as a third element when `new_for` is set.
 */
export interface NewValueState {
  first: number;
  last: number;
  vals: ([string, number] | [string, number, number])[];
}

function valuesOf(x: unknown): string[] {
  // A single string, as most fields are: no set to build.
  if (typeof x === 'string') {
    const s = x.trim();
    return s ? [s] : [];
  }
  const items = Array.isArray(x) ? x : [x];
  const out = new Set<string>();
  for (const i of items) {
    if (typeof i === 'string' || typeof i === 'number') {
      const s = String(i).trim();
      if (s) out.add(s);
    }
  }
  return [...out];
}

/**
 * A value never seen for the group within `lookback`, once the group has `min_history`. History
 * comes from the same events, so replaying a month learns the first week and alerts after it.
 */
export const newValueDetector: Detector<NewValueParams, NewValueState> = {
  kind: 'new_value',
  values: ['value', 'known', 'field', 'history', 'lookback'],
  prepare(raw, ctx) {
    const p = parseParams(schema, raw, ctx);
    if (!p) return undefined;
    const out: NewValueParams = {
      field: p.field,
      read: compileAccessor(p.field),
      lookbackMs: p.lookback,
      minHistoryMs: p.min_history,
      maxValues: p.max_values,
      newForMs: p.new_for,
    };
    if (p.alert_if) out.alertIf = ctx.compileWhen(p.alert_if, ['alert_if']).test;
    return out;
  },
  step(state, event, p, group) {
    const values = valuesOf(p.read(event));
    if (values.length === 0) return { state, expiresAt: state ? state.last + p.lookbackMs : null, findings: [] };
    const t = eventTime(event);
    // Known values seen within the hour: nothing worth writing back (most sign-ins of a replay).
    if (p.newForMs === 0 && state && t >= state.first && t - state.last < HOUR_MS && values.every((v) => state.vals.some(([k, s]) => k === v && t - s < HOUR_MS))) {
      return { state, expiresAt: state.last + p.lookbackMs, findings: [] };
    }
    const last = Math.max(state?.last ?? t, t);
    const first = Math.min(state?.first ?? t, t);
    const known = new Map<string, [number, number | undefined]>(
      (state?.vals ?? []).filter(([, s]) => s >= last - p.lookbackMs).map(([k, s, f]) => [k, [s, f]]),
    );
    const stillNew = (v: string) => {
      const f = known.get(v)?.[1];
      return p.newForMs > 0 && f !== undefined && t - f < p.newForMs;
    };
    const fresh = values.filter((v) => !known.has(v) || stillNew(v));
    // Only read when something is new (then the values before this event are the baseline).
    const baseline = fresh.length ? [...known.keys()].filter((k) => !fresh.includes(k) && !stillNew(k)).sort() : [];
    for (const v of values) {
      const prev = known.get(v);
      known.set(v, [Math.max(prev?.[0] ?? t, t), p.newForMs > 0 ? Math.min(prev?.[1] ?? t, t) : undefined]);
    }
    let vals: NewValueState['vals'] = [...known.entries()].map(([k, [s, f]]) => (f === undefined ? [k, s] : [k, s, f]));
    if (vals.length > p.maxValues) vals = vals.sort((a, b) => b[1] - a[1]).slice(0, p.maxValues);
    const next: NewValueState = { first, last, vals };
    const expiresAt = last + p.lookbackMs;
    const historyMs = t - (state?.first ?? t);
    // No baseline yet, or not enough of it: learn silently.
    if (fresh.length === 0 || baseline.length === 0 || historyMs < p.minHistoryMs) return { state: next, expiresAt, findings: [] };
    if (p.alertIf && !p.alertIf(event)) return { state: next, expiresAt, findings: [] };
    const history = formatDuration(historyMs);
    const lookback = formatDuration(p.lookbackMs);
    return {
      state: next,
      expiresAt,
      findings: [
        {
          lines: [
            `${p.field} ${listText(fresh)} was never seen for ${group} in the last ${lookback} ` +
              `(${history} of history; known: ${listText(baseline, 8)}).`,
          ],
          evidence: [evidenceOf(event)],
          values: { value: fresh, known: baseline, field: p.field, history, lookback },
        },
      ],
    };
  },
};
