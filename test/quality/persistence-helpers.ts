import path from 'node:path';
import type { Alert } from '../../src/alerts/alert.js';
import { fixedClock } from '../../src/clock.js';
import { createMemoryState, loadEngine } from '../../src/engine/index.js';
import { createEnricher } from '../../src/enrich/index.js';
import type { VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';

export const RULES = path.resolve(import.meta.dirname, '../../rules');
export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const T0 = Date.parse('2025-03-01T08:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();

/** A fake GeoIP for the documentation addresses the stories use. */
const GEO: Record<string, { country: string; city: string; lat: number; lon: number }> = {
  '192.0.2.10': { country: 'FR', city: 'Paris', lat: 48.86, lon: 2.35 },
  '203.0.113.66': { country: 'RU', city: 'Moscow', lat: 55.75, lon: 37.62 },
};

/** The real engine over the shipped rules, fresh in-memory state; the latest version of each alert. */
export function replay(events: readonly VigieEvent[]): Alert[] {
  const engine = loadEngine({ rulesDir: RULES, overlays: [], clock: fixedClock('2025-03-01T00:00:00Z'), log: silentLogger });
  const enrich = createEnricher({ domains: ['party.example'] });
  const state = createMemoryState({ serialize: true });
  const alerts = new Map<string, Alert>();
  const sorted = [...events].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  for (const raw of sorted) {
    let e = enrich(raw);
    const g = e.ip ? GEO[e.ip] : undefined;
    if (g && !e.geo?.country) e = { ...e, geo: { ...g, source: 'geoip' } };
    for (const a of engine.evaluate(e, { state, learning: false })) alerts.set(a.id, a);
  }
  return [...alerts.values()];
}

export function byRule(alerts: readonly Alert[], rule: string): Alert[] {
  return alerts.filter((a) => a.rule === rule);
}
