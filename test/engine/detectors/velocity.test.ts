import { describe, expect, it } from 'vitest';
import { velocityDetector, type VelocityParams, type VelocityState } from '../../../src/engine/detectors/velocity.js';
import { distanceKm } from '../../../src/engine/geo-distance.js';
import { ev } from '../helpers.js';
import { prepare, run } from './helpers.js';

const T0 = Date.parse('2025-01-06T09:00:00Z');
const PARIS = { country: 'FR', city: 'Paris', lat: 48.8566, lon: 2.3522 };
const MOSCOW = { country: 'RU', city: 'Moscow', lat: 55.7558, lon: 37.6173 };
const NEW_YORK = { country: 'US', city: 'New York', lat: 40.7128, lon: -74.006 };
const at = (min: number, geo: object, ip?: string) => ev({ time: new Date(T0 + min * 60_000).toISOString(), geo, ...(ip ? { ip } : {}) });

describe('velocity detector', () => {
  const p = prepare<VelocityParams>(velocityDetector, {});

  it('measures great-circle distances', () => {
    expect(Math.round(distanceKm(PARIS.lat, PARIS.lon, MOSCOW.lat, MOSCOW.lon))).toBe(2486);
    expect(Math.round(distanceKm(PARIS.lat, PARIS.lon, NEW_YORK.lat, NEW_YORK.lon))).toBe(5837);
    expect(distanceKm(1, 2, 1, 2)).toBe(0);
  });

  it('reports impossible travel with the distance, time and speed, and both sign-ins as evidence', () => {
    const { steps } = run(velocityDetector, p, [at(0, PARIS, '192.0.2.1'), at(40, MOSCOW, '203.0.113.66')]);
    const f = steps[1]!.findings[0]!;
    expect(f.lines[0]).toBe('Paris, FR → Moscow, RU: 2,486 km in 40 min = 3,729 km/h for account alice@party.example (limit: 900 km/h beyond 500 km).');
    expect(f.lines[1]).toBe('Previous: 2025-01-06 09:00 UTC from 192.0.2.1 (Paris, FR); next: 2025-01-06 09:40 UTC from 203.0.113.66 (Moscow, RU).');
    expect(f.evidence.map((e) => e.city)).toEqual(['Paris', 'Moscow']);
    expect(f.values).toMatchObject({ distance: '2,486 km', speed: '3,729 km/h', elapsed: '40 min' });
  });

  it('accepts a flight, and ignores short hops and events without coordinates', () => {
    // Paris → New York in 8 h is 730 km/h: a plane.
    expect(run(velocityDetector, p, [at(0, PARIS), at(480, NEW_YORK)]).steps[1]!.findings).toEqual([]);
    expect(run(velocityDetector, p, [at(0, PARIS), at(1, { country: 'FR', lat: 48.0, lon: 2.0 })]).steps[1]!.findings).toEqual([]);
    expect(run(velocityDetector, p, [at(0, PARIS), at(5, { country: 'RU' })]).steps[1]!.findings).toEqual([]);
  });

  it('compares consecutive sign-ins only, and pairs a late one with both neighbours', () => {
    // Paris, Moscow (impossible), then Moscow again (fine), then a late Paris between the two Moscows.
    const { steps, state } = run<VelocityState>(velocityDetector, p, [at(0, PARIS), at(40, MOSCOW), at(60, MOSCOW), at(50, PARIS)]);
    expect(steps.map((s) => s.findings.length)).toEqual([0, 1, 0, 2]);
    expect(state!.pts.map((x) => x.ev.city)).toEqual(['Paris', 'Moscow', 'Paris', 'Moscow']);
  });

  it('two sign-ins in the same second still give a finite speed', () => {
    const f = run(velocityDetector, p, [at(0, PARIS), at(0, MOSCOW)]).steps[1]!.findings[0]!;
    expect(f.values.elapsed).toBe('under a minute');
    expect(f.values.speed).toBe('149,175 km/h');
  });

  it('keeps a few points and expires when no pair could be impossible any more', () => {
    const events = Array.from({ length: 20 }, (_, i) => at(i * 60, PARIS));
    const { state, steps } = run<VelocityState>(velocityDetector, p, events);
    expect(state!.pts).toHaveLength(5);
    const horizonH = 20015 / 900;
    expect(steps.at(-1)!.expiresAt! - (T0 + 19 * 3_600_000)).toBeCloseTo(horizonH * 3_600_000, -5);
  });
});
