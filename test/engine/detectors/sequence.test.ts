import { describe, expect, it } from 'vitest';
import { sequenceDetector, type SequenceParams } from '../../../src/engine/detectors/sequence.js';
import { matchDetector } from '../../../src/engine/detectors/match.js';
import { ev } from '../helpers.js';
import { prepare, problemsOf, run } from './helpers.js';

const T0 = Date.parse('2025-01-06T09:00:00Z');
const signin = (min: number) => ev({ time: new Date(T0 + min * 60_000).toISOString(), outcome: 'success', ip: '203.0.113.66', geo: { country: 'RU' } });
const newRule = (min: number) => ev({ time: new Date(T0 + min * 60_000).toISOString(), kind: 'mailbox_rule', details: { change: 'created', name: 'x' } });

describe('sequence detector', () => {
  const p = prepare<SequenceParams>(sequenceDetector, {
    first: { kind: 'signin', outcome: 'success', 'geo.country': { not: 'FR' } },
    then: { kind: 'mailbox_rule', 'details.change': 'created' },
    within: '1h',
  });

  it('fires on A then B within the window, with both as evidence', () => {
    const { steps } = run(sequenceDetector, p, [signin(0), newRule(6)]);
    expect(steps[1]!.findings).toHaveLength(1);
    const f = steps[1]!.findings[0]!;
    expect(f.lines[0]).toBe(
      'For account alice@party.example: successful sign-in from 203.0.113.66 at 2025-01-06 09:00 UTC, then created rule "x" at 2025-01-06 09:06 UTC, 6 min apart (window: 1 h).',
    );
    expect(f.evidence.map((e) => e.kind)).toEqual(['signin', 'mailbox_rule']);
  });

  it('does not fire on B alone, B before A, or B too late', () => {
    expect(run(sequenceDetector, p, [newRule(0)]).steps[0]!.findings).toEqual([]);
    expect(run(sequenceDetector, p, [newRule(0), signin(10)]).steps.flatMap((s) => s.findings)).toEqual([]);
    expect(run(sequenceDetector, p, [signin(0), newRule(61)]).steps.flatMap((s) => s.findings)).toEqual([]);
  });

  it('pairs a late-delivered A with the B that already arrived', () => {
    // A second pair for the same B is the same incident: the engine keeps one alert id.
    const lateA = run(sequenceDetector, p, [signin(20), newRule(30), signin(5)]);
    expect(lateA.steps.map((s) => s.findings.length)).toEqual([0, 1, 1]);
    const onlyLate = run(sequenceDetector, p, [newRule(30), signin(5)]);
    expect(onlyLate.steps.map((s) => s.findings.length)).toEqual([0, 1]);
  });

  it('reports bad step conditions under params', () => {
    expect(problemsOf(sequenceDetector, { first: { colour: 1 }, then: {}, within: '1h' })).toEqual([
      expect.stringMatching(/^first\.colour: "colour" is not an event field/),
    ]);
    expect(problemsOf(sequenceDetector, { first: {} })).toEqual(['then: is required', 'within: is required']);
  });
});

describe('match detector', () => {
  it('is stateless and takes no params', () => {
    const r = matchDetector.step(undefined, ev(), {}, 'account a');
    expect(r.state).toBeUndefined();
    expect(r.findings).toHaveLength(1);
    expect(problemsOf(matchDetector, { count: 1 })).toEqual(['count: unknown key "count"']);
  });
});
