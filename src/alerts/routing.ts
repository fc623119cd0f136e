import { severityRank, type Alert, type Severity } from './alert.js';

type OneOrMany<T> = T | T[];

export interface RouteMatch {
  severity?: OneOrMany<Severity>;
  min_severity?: Severity;
  category?: OneOrMany<string>;
  /** Rule ids; `*` matches any run of characters, e.g. `login.*`. */
  rule?: OneOrMany<string>;
  provider?: OneOrMany<string>;
  source?: OneOrMany<string>;
}

export interface RouteConfig {
  /** Every condition given must hold (AND); a list means any of its values (OR). No match = every alert. */
  match?: RouteMatch;
  receivers: string[];
  /** Keep evaluating the following routes after this one matched. */
  continue: boolean;
}

const globCache = new Map<string, RegExp>();

function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    globCache.set(pattern, re);
  }
  return re;
}

function list<T>(v: OneOrMany<T>): T[] {
  return Array.isArray(v) ? v : [v];
}

function matchesValue(actual: string | undefined, wanted: OneOrMany<string> | undefined, globs = false): boolean {
  if (wanted === undefined) return true;
  if (actual === undefined) return false;
  return list(wanted).some((w) => (globs && w.includes('*') ? glob(w).test(actual) : w === actual));
}

export function routeMatches(alert: Alert, match: RouteMatch | undefined): boolean {
  if (!match) return true;
  if (match.min_severity !== undefined && severityRank(alert.severity) < severityRank(match.min_severity)) return false;
  return (
    matchesValue(alert.severity, match.severity) &&
    matchesValue(alert.category, match.category) &&
    matchesValue(alert.rule, match.rule, true) &&
    matchesValue(alert.provider, match.provider) &&
    matchesValue(alert.source, match.source)
  );
}

/**
 * The receivers an alert goes to, de-duplicated, in route order. Routes are tried top to bottom
 * and the first match wins unless it says `continue: true` (Alertmanager's model).
 * No routes configured → every receiver. Routes configured but none matches → no receiver: the
 * alert is still recorded, just not sent; add a last catch-all route (no `match`) to avoid that.
 * Receivers not in `allReceivers` are left out: an empty list means "record, send nowhere" (replay).
 */
export function routeAlert(alert: Alert, routes: RouteConfig[], allReceivers: string[]): string[] {
  if (routes.length === 0) return [...new Set(allReceivers)];
  const available = new Set(allReceivers);
  const out = new Set<string>();
  for (const route of routes) {
    if (!routeMatches(alert, route.match)) continue;
    for (const r of route.receivers) if (available.has(r)) out.add(r);
    if (!route.continue) break;
  }
  return [...out];
}
