import type { Alert } from './alert.js';
import { routeMatches, type RouteMatch } from './routing.js';

/** A config silence: matching alerts are recorded but not sent until `until`. */
export interface Silence {
  /** Same matchers as a route; no `match` silences everything (an outage window). */
  match?: RouteMatch;
  /** Milliseconds since the epoch; the silence ends at this instant. */
  until: number;
  /** Why, and who decided: shown by `check-config` and kept in the log. */
  note: string;
}

/**
 * The first silence that holds `alert` at `now`, or undefined. Monitor alerts about Vigie itself
 * are silenced only by a silence that names the `monitor` category explicitly: a blanket silence
 * must not hide that Vigie has gone blind.
 */
export function activeSilence(alert: Alert, silences: readonly Silence[], now: number): Silence | undefined {
  for (const s of silences) {
    if (!(now < s.until)) continue;
    if (alert.category === 'monitor' && !namesMonitor(s.match)) continue;
    if (routeMatches(alert, s.match)) return s;
  }
  return undefined;
}

export function isSilenced(alert: Alert, silences: readonly Silence[], now: number): boolean {
  return activeSilence(alert, silences, now) !== undefined;
}

function namesMonitor(match: RouteMatch | undefined): boolean {
  const c = match?.category;
  return c === 'monitor' || (Array.isArray(c) && c.includes('monitor'));
}
