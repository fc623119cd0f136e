import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullestWindow, thresholdDetector, type ThresholdParams, type ThresholdState } from '../../../src/engine/detectors/threshold.js';
import { ev } from '../helpers.js';
import { prepare, problemsOf, run } from './helpers.js';

const T0 = Date.parse('2025-01-06T09:00:00Z');
const at = (ms: number, over = {}) => ev({ time: new Date(T0 + ms).toISOString(), outcome: 'failure', ...over });

describe('threshold detector', () => {
  const p = prepare<ThresholdParams>(thresholdDetector, { count: 3, within: '10m' });

  it('fires once the window holds count events, with the numbers', () => {
    const { steps } = run(thresholdDetector, p, [at(0), at(60_000), at(120_000)]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 0, 1]);
    expect(steps[2]!.findings[0]!.lines[0]).toBe('3 events in 2 min for account alice@party.example (threshold: 3 within 10 min).');
    expect(steps[2]!.findings[0]!.evidence).toHaveLength(3);
    expect(steps[2]!.expiresAt).toBe(T0 + 120_000 + 600_000);
  });

  it('slides: old events fall out of the window', () => {
    const { steps, state } = run<ThresholdState>(thresholdDetector, p, [at(0), at(60_000), at(11 * 60_000), at(12 * 60_000)]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 0, 0, 0]);
    expect(state!.t).toEqual([T0 + 60_000 + 0, T0 + 11 * 60_000, T0 + 12 * 60_000].slice(1));
  });

  it('counts a late event into the window it belongs to', () => {
    const { steps } = run(thresholdDetector, p, [at(5 * 60_000), at(9 * 60_000), at(6 * 60_000)]);
    expect(steps[2]!.findings).toHaveLength(1);
  });

  it('keeps its state bounded however long the attack', () => {
    const events = Array.from({ length: 2000 }, (_, i) => at(i * 100));
    const { state, steps } = run<ThresholdState>(thresholdDetector, p, events);
    expect(state!.t!.length).toBeLessThanOrEqual(100);
    expect(state!.ev.length).toBeLessThanOrEqual(10);
    expect(steps.at(-1)!.findings[0]!.lines[0]).toMatch(/^at least 100 events/);
  });

  it('counts distinct values of a field', () => {
    const spray = prepare<ThresholdParams>(thresholdDetector, { count: 3, within: '30m', distinct: 'account' });
    const e = (min: number, account: string) => at(min * 60_000, { account });
    const { steps } = run(thresholdDetector, spray, [e(0, 'a@x'), e(1, 'a@x'), e(2, 'b@x'), e(3, 'b@x'), e(4, 'c@x')]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 0, 0, 0, 1]);
    expect(steps[4]!.findings[0]!.values).toMatchObject({ count: 3, distinct_values: ['a@x', 'b@x', 'c@x'] });
    expect(steps[4]!.findings[0]!.lines[0]).toMatch(/^3 distinct account values in 3 min .*: a@x, b@x, c@x\.$/);
    // Events without the field cannot be counted.
    expect(run(thresholdDetector, spray, [at(0, { account: '' })]).steps[0]!.findings).toEqual([]);
  });

  it('validates its params', () => {
    expect(problemsOf(thresholdDetector, { within: '10 minutes', distinct: 'nope.x' })).toEqual([
      'count: is required',
      'within: must be a duration such as 90s, 10m, 24h or 7d',
      expect.stringMatching(/^distinct: "nope" is not an event field/),
    ]);
  });

  it('fullestWindow agrees with counting by hand', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 40 }), fc.integer({ min: 1, max: 3000 }), fc.nat(39), (raw, w, k) => {
        const times = [...raw].sort((a, b) => a - b);
        if (times.length === 0) return;
        const t = times[k % times.length]!;
        let best = 0;
        for (const s of times) {
          if (s < t - w || s > t) continue;
          best = Math.max(best, times.filter((x) => x >= s && x <= s + w).length);
        }
        expect(fullestWindow(times, t, w).n).toBe(best);
      }),
    );
  });

  it('in event-time order, fires exactly when the last window of `within` holds `count` events', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (gaps, count) => {
        const params = prepare<ThresholdParams>(thresholdDetector, { count, within: '5m' });
        let t = 0;
        const times = gaps.map((g) => (t += g * 1000));
        const { steps } = run(thresholdDetector, params, times.map((ms) => at(ms)));
        steps.forEach((s, i) => {
          const inWindow = times.slice(0, i + 1).filter((x) => x >= times[i]! - 300_000).length;
          expect(s.findings.length > 0, `event ${i}`).toBe(inWindow >= count);
        });
      }),
    );
  });
});
