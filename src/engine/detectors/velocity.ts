import { z } from 'zod';
import type { Evidence } from '../../alerts/alert.js';
import { eventTime } from '../event-time.js';
import { evidenceOf } from '../evidence.js';
import { distanceKm, MAX_DISTANCE_KM } from '../geo-distance.js';
import { formatDuration, formatInteger, formatTime } from '../text.js';
import type { Predicate } from '../conditions.js';
import { parseParams, type Detector, type Finding } from './types.js';

const schema = z.strictObject({
  /** Shorter hops are GeoIP noise (a mobile carrier's regional hub, a neighbouring city). */
  min_km: z.number().min(0).max(20_000).default(500),
  /** Faster than an airliner. */
  max_kmh: z.number().positive().max(100_000).default(900),
  /**
   * Events whose location is a guess (a phone behind its carrier's regional gateway, a hosting
   * network): a pair involving one must span at least `uncertain_min_km` to count.
   */
  uncertain_if: z.record(z.string(), z.unknown()).optional(),
  uncertain_min_km: z.number().min(0).max(20_000).default(1500),
});

export interface VelocityParams {
  minKm: number;
  maxKmh: number;
  uncertain?: Predicate;
  uncertainMinKm: number;
}

interface Point {
  t: number;
  lat: number;
  lon: number;
  ev: Evidence;
  /** Location less certain (see `uncertain_if`). */
  u?: 1;
}

/** The last few geolocated events of the group, oldest first (a few, so late arrivals still pair up). */
export interface VelocityState {
  pts: Point[];
}

const KEEP = 5;
/** Elapsed times below a minute are rounded up, so two sign-ins in the same second still give a finite speed. */
const MIN_ELAPSED_MS = 60_000;

function place(ev: Evidence, p: Point): string {
  if (ev.city && ev.country) return `${ev.city}, ${ev.country}`;
  return ev.country ?? ev.city ?? `${p.lat.toFixed(2)},${p.lon.toFixed(2)}`;
}

function where(ev: Evidence, p: Point): string {
  return ev.ip ? `${ev.ip} (${place(ev, p)})` : place(ev, p);
}

function compare(a: Point, b: Point, p: VelocityParams, group: string): Finding | undefined {
  const km = distanceKm(a.lat, a.lon, b.lat, b.lon);
  const uncertain = a.u === 1 || b.u === 1;
  if (km < (uncertain ? Math.max(p.minKm, p.uncertainMinKm) : p.minKm)) return undefined;
  const elapsed = b.t - a.t;
  const kmh = km / (Math.max(elapsed, MIN_ELAPSED_MS) / 3_600_000);
  if (kmh <= p.maxKmh) return undefined;
  const from = place(a.ev, a);
  const to = place(b.ev, b);
  const took = elapsed < MIN_ELAPSED_MS ? 'under a minute' : formatDuration(elapsed);
  const distance = `${formatInteger(km)} km`;
  const speed = `${formatInteger(kmh)} km/h`;
  return {
    lines: [
      `${from} → ${to}: ${distance} in ${took} = ${speed} for ${group} (limit: ${formatInteger(p.maxKmh)} km/h beyond ${formatInteger(p.minKm)} km).`,
      `Previous: ${formatTime(a.t)} from ${where(a.ev, a)}; next: ${formatTime(b.t)} from ${where(b.ev, b)}.`,
      ...(uncertain
        ? [`One side is a mobile carrier or hosting network whose location is approximate, so only hops beyond ${formatInteger(Math.max(p.minKm, p.uncertainMinKm))} km count.`]
        : []),
    ],
    evidence: [a.ev, b.ev],
    values: { from, to, distance, elapsed: took, speed, limit: `${formatInteger(p.maxKmh)} km/h` },
  };
}

/**
 * Impossible travel between consecutive geolocated events of one group (use `when` to keep only
 * successful sign-ins, and `group_by: [person]` to compare across providers).
 */
export const velocityDetector: Detector<VelocityParams, VelocityState> = {
  kind: 'velocity',
  values: ['from', 'to', 'distance', 'elapsed', 'speed', 'limit'],
  prepare(raw, ctx) {
    const p = parseParams(schema, raw, ctx);
    if (!p) return undefined;
    const out: VelocityParams = { minKm: p.min_km, maxKmh: p.max_kmh, uncertainMinKm: p.uncertain_min_km };
    if (p.uncertain_if) out.uncertain = ctx.compileWhen(p.uncertain_if, ['uncertain_if']).test;
    return out;
  },
  step(state, event, p, group) {
    const lat = event.geo?.lat;
    const lon = event.geo?.lon;
    const pts = state?.pts ?? [];
    // Past this gap no pair can be impossible, so the state is useless.
    const horizonMs = (MAX_DISTANCE_KM / p.maxKmh) * 3_600_000;
    const expire = (list: Point[]) => (list.length ? list[list.length - 1]!.t + horizonMs : null);
    if (typeof lat !== 'number' || typeof lon !== 'number' || pts.some((x) => x.ev.event_id === event.id)) {
      return { state, expiresAt: expire(pts), findings: [] };
    }
    const cur: Point = { t: eventTime(event), lat, lon, ev: evidenceOf(event) };
    if (p.uncertain?.(event)) cur.u = 1;
    let i = pts.length;
    while (i > 0 && pts[i - 1]!.t > cur.t) i--;
    const prev = pts[i - 1];
    const next = pts[i];
    const findings: Finding[] = [];
    if (prev) {
      const f = compare(prev, cur, p, group);
      if (f) findings.push(f);
    }
    if (next) {
      const f = compare(cur, next, p, group);
      if (f) findings.push(f);
    }
    const all = [...pts.slice(0, i), cur, ...pts.slice(i)].slice(-KEEP);
    return { state: { pts: all }, expiresAt: expire(all), findings };
  },
};
