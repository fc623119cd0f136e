import { z } from 'zod';
import type { Evidence } from '../../alerts/alert.js';
import { eventTime } from '../event-time.js';
import { compileAccessor, type Accessor } from '../event-paths.js';
import { evidenceOf, mergeEvidence } from '../evidence.js';
import { formatDuration, formatTime, listText, plainText } from '../text.js';
import { durationParam, eventPathParam } from './params.js';
import type { Predicate } from '../conditions.js';
import { parseParams, type Detector } from './types.js';

const schema = z.strictObject({
  /** Fire when at least this many events (or distinct values) fall in one window. */
  count: z.number().int().min(1).max(100_000),
  within: durationParam,
  /** Count distinct values of this event path instead of events (password spray: `account`). */
  distinct: eventPathParam.optional(),
  /**
   * Count mode only: events that also pass these conditions are not counted; one of them fires
   * when the window before it holds `count` counted events (a success after many failures).
   */
  trigger_if: z.record(z.string(), z.unknown()).optional(),
});

export interface ThresholdParams {
  count: number;
  withinMs: number;
  distinct?: { path: string; read: Accessor };
  trigger?: Predicate;
}

/**
 * `t`: event times in the window (count mode), sorted. `v`: [value, last seen] pairs (distinct mode).
 * `max`: newest event time seen, which anchors the window. `ev`: latest evidence.
 */
export interface ThresholdState {
  max: number;
  t?: number[];
  v?: [string, number][];
  ev: Evidence[];
}

/** More than the threshold so the explanation can say how far over it went, yet bounded. */
function capFor(p: ThresholdParams): number {
  return Math.max(2 * p.count, 100);
}

function insertSorted(times: number[], t: number): number[] {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  return [...times.slice(0, i), t, ...times.slice(i)];
}

/** The fullest window of length `w` that contains `t`: its count and its first and last times. */
export function fullestWindow(times: readonly number[], t: number, w: number): { n: number; first: number; last: number } {
  let best = { n: 0, first: t, last: t };
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    const s = times[i]!;
    if (s < t - w) continue;
    if (s > t) break;
    if (j < i) j = i;
    while (j + 1 < times.length && times[j + 1]! <= s + w) j++;
    const n = j - i + 1;
    if (n > best.n) best = { n, first: s, last: times[j]! };
  }
  return best;
}

function valuesOf(x: unknown): string[] {
  const items = Array.isArray(x) ? x : [x];
  const out: string[] = [];
  for (const i of items) {
    if (typeof i === 'string' || typeof i === 'number') {
      const s = String(i).trim();
      if (s) out.push(s);
    }
  }
  return out;
}

/** Count, or distinct count of a field, per group in a sliding event-time window. */
export const thresholdDetector: Detector<ThresholdParams, ThresholdState> = {
  kind: 'threshold',
  values: ['count', 'threshold', 'window', 'span', 'first', 'last', 'field', 'distinct_values'],
  prepare(raw, ctx) {
    const p = parseParams(schema, raw, ctx);
    if (!p) return undefined;
    const out: ThresholdParams = { count: p.count, withinMs: p.within };
    if (p.distinct) out.distinct = { path: p.distinct, read: compileAccessor(p.distinct) };
    if (p.trigger_if) {
      if (p.distinct) ctx.problem(['trigger_if'], 'trigger_if cannot be combined with distinct');
      else out.trigger = ctx.compileWhen(p.trigger_if, ['trigger_if']).test;
    }
    return out;
  },
  step(state, event, p, group) {
    const t = eventTime(event);
    const cap = capFor(p);
    const max = Math.max(state?.max ?? t, t);
    const horizon = max - p.withinMs;
    // Evidence and the window's text are only built on the paths that keep or report them.
    const evidence = () =>
      mergeEvidence(
        (state?.ev ?? []).filter((e) => Date.parse(e.time) >= horizon),
        [evidenceOf(event)],
      );
    const windowText = () => formatDuration(p.withinMs);

    if (p.distinct) {
      const values = valuesOf(p.distinct.read(event));
      if (values.length === 0) return { state, expiresAt: state ? state.max + p.withinMs : null, findings: [] };
      const seen = new Map((state?.v ?? []).filter(([, s]) => s >= horizon));
      for (const v of values) seen.set(v, Math.max(seen.get(v) ?? t, t));
      let pairs = [...seen.entries()];
      if (pairs.length > cap) pairs = pairs.sort((a, b) => b[1] - a[1]).slice(0, cap);
      const ev = evidence();
      const next: ThresholdState = { max, v: pairs, ev };
      const inWindow = pairs.filter(([, s]) => s >= t - p.withinMs);
      const n = inWindow.length;
      if (n < p.count) return { state: next, expiresAt: max + p.withinMs, findings: [] };
      const times = inWindow.map(([, s]) => s);
      const first = Math.min(...times);
      const last = Math.max(...times);
      const names = inWindow.sort((a, b) => a[1] - b[1]).map(([v]) => v);
      const window = windowText();
      const atLeast = pairs.length >= cap ? 'at least ' : '';
      const line =
        `${atLeast}${n} distinct ${p.distinct.path} values in ${formatDuration(last - first)} for ${group} ` +
        `(threshold: ${p.count} within ${window}): ${listText(names)}.`;
      return {
        state: next,
        expiresAt: max + p.withinMs,
        findings: [
          {
            lines: [plainText(line, 600)],
            evidence: ev,
            values: {
              count: n,
              threshold: p.count,
              window,
              span: formatDuration(last - first),
              first: formatTime(first),
              last: formatTime(last),
              field: p.distinct.path,
              distinct_values: names,
            },
          },
        ],
      };
    }

    if (p.trigger?.(event)) {
      const before = (state?.t ?? []).filter((s) => s <= t && s >= t - p.withinMs);
      if (before.length < p.count) return { state, expiresAt: state ? state.max + p.withinMs : null, findings: [] };
      const first = before[0]!;
      const span = formatDuration(t - first);
      const window = windowText();
      const ev = evidence();
      const next: ThresholdState = { max, ev, t: (state?.t ?? []).filter((s) => s > t) };
      return {
        state: next,
        expiresAt: max + p.withinMs,
        findings: [
          {
            lines: [`${before.length} counted events in the ${span} before this one for ${group} (threshold: ${p.count} within ${window}).`],
            evidence: ev,
            values: { count: before.length, threshold: p.count, window, span, first: formatTime(first), last: formatTime(t) },
          },
        ],
      };
    }
    let times = insertSorted((state?.t ?? []).filter((s) => s >= horizon), t);
    if (times.length > cap) times = times.slice(times.length - cap);
    const ev = evidence();
    const next: ThresholdState = { max, t: times, ev };
    const best = fullestWindow(times, t, p.withinMs);
    // With a trigger, counted events only build up the window; the trigger fires.
    if (p.trigger || best.n < p.count) return { state: next, expiresAt: max + p.withinMs, findings: [] };
    const atLeast = times.length >= cap ? 'at least ' : '';
    const span = formatDuration(best.last - best.first);
    const window = windowText();
    return {
      state: next,
      expiresAt: max + p.withinMs,
      findings: [
        {
          lines: [`${atLeast}${best.n} events in ${span} for ${group} (threshold: ${p.count} within ${window}).`],
          evidence: ev,
          values: {
            count: best.n,
            threshold: p.count,
            window,
            span,
            first: formatTime(best.first),
            last: formatTime(best.last),
          },
        },
      ],
    };
  },
};
