import { createHash } from 'node:crypto';

export const CATEGORIES = [
  'unusual_login',
  'account_change',
  'forwarding',
  'delegation',
  'oauth_consent',
  'data_export',
  'mail_activity',
  'provider_alert',
  'monitor',
  'incident',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface Evidence {
  event_id: string;
  time: string;
  kind: string;
  ip?: string;
  country?: string;
  city?: string;
  detail?: string;
}

/** The alert object of DESIGN §6: what receivers get and what `vigie replay` prints. */
export interface Alert {
  /** Stable hash of rule + group + dedupe window: the same incident always has the same id. */
  id: string;
  rule: string;
  title: string;
  category: Category;
  severity: Severity;
  status: 'firing' | 'resolved';
  account?: string;
  person?: string;
  provider?: string;
  source?: string;
  /** Time of the first event. */
  time: string;
  /** Time of the last event. */
  last_time: string;
  count: number;
  summary: string;
  explanation: string[];
  evidence: Evidence[];
  remediation: string[];
}

/** Deterministic alert id: replaying the same events always yields the same id. */
export function alertId(ruleId: string, groupKey: string, windowStart: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${groupKey}\u0000${windowStart}`).digest('hex').slice(0, 32);
}

/**
 * The idempotency key of one message carrying `ids`: the alert id itself for one alert, else a
 * hash of the sorted ids, so that every retry of the same group carries the same key.
 */
export function messageKey(ids: readonly string[]): string {
  if (ids.length === 1) return ids[0]!;
  return createHash('sha256').update([...ids].sort().join('\n')).digest('hex').slice(0, 32);
}
