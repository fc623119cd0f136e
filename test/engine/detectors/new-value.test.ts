import { describe, expect, it } from 'vitest';
import { newValueDetector, type NewValueParams, type NewValueState } from '../../../src/engine/detectors/new-value.js';
import { ev } from '../helpers.js';
import { prepare, problemsOf, run } from './helpers.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-01-06T09:00:00Z');
const signin = (day: number, country: string | undefined) => ev({ time: new Date(T0 + day * DAY).toISOString(), geo: country ? { country } : {} });

describe('new_value detector', () => {
  const p = prepare<NewValueParams>(newValueDetector, { field: 'geo.country' });

  it('has defaults: 90 days of lookback, 7 days of history', () => {
    expect(p).toMatchObject({ lookbackMs: 90 * DAY, minHistoryMs: 7 * DAY, maxValues: 200 });
  });

  it('learns silently, then reports a value it has not seen', () => {
    const { steps } = run(newValueDetector, p, [signin(0, 'FR'), signin(3, 'BE'), signin(7, 'FR'), signin(8, 'RU'), signin(9, 'RU')]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 0, 0, 1, 0]);
    expect(steps[3]!.findings[0]!.values).toMatchObject({ value: ['RU'], known: ['BE', 'FR'], history: '8 days' });
    expect(steps[3]!.findings[0]!.lines[0]).toBe(
      'geo.country RU was never seen for account alice@party.example in the last 90 days (8 days of history; known: BE, FR).',
    );
  });

  it('ignores events without the field, and forgets values past the lookback', () => {
    const { steps, state } = run<NewValueState>(newValueDetector, p, [signin(0, 'RU'), signin(1, undefined), signin(2, 'FR'), signin(100, 'FR'), signin(101, 'RU')]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 0, 0, 0, 1]);
    expect(state!.vals.map(([v]) => v).sort()).toEqual(['FR', 'RU']);
    expect(steps[4]!.expiresAt).toBe(T0 + 101 * DAY + 90 * DAY);
  });

  it('bounds the values it keeps', () => {
    const small = prepare<NewValueParams>(newValueDetector, { field: 'details.client', max_values: 3, min_history: '0s' });
    const events = ['a', 'b', 'c', 'd', 'e'].map((c, i) => ev({ time: new Date(T0 + i * DAY).toISOString(), details: { client: c } }));
    const { state, steps } = run<NewValueState>(newValueDetector, small, events);
    expect(state!.vals.map(([v]) => v)).toEqual(['e', 'd', 'c']);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 1, 1, 1, 1]);
  });

  it('validates its params', () => {
    expect(problemsOf(newValueDetector, { lookback: 'forever' })).toEqual([
      'field: is required',
      'lookback: must be a duration such as 90s, 10m, 24h or 7d',
    ]);
  });
});
