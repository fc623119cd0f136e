import type { VigieEvent } from '../../src/events.js';
import type { GoogleAccessError } from './google-call.js';

/**
 * What a stream hands to normalize when Google refuses access: the refusal itself becomes a
 * `monitor` event that says what to grant (DESIGN §4), dated when it was seen.
 */
export interface MonitorRecord {
  kind: 'vigie#monitor';
  time: string;
  stream: string;
  api: string;
  status: number;
  reason: string;
  missing: string;
  error: string;
}

export function isMonitorRecord(x: unknown): x is MonitorRecord {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'vigie#monitor';
}

export function accessLostRecord(err: GoogleAccessError, stream: string, now: number): MonitorRecord {
  return {
    kind: 'vigie#monitor',
    time: new Date(now).toISOString(),
    stream,
    api: err.api,
    status: err.status,
    reason: err.reason,
    missing: err.missing,
    error: err.message,
  };
}

/** One event per stream and day: a stream refused every poll raises it once a day, not every five minutes. */
export function monitorEvent(r: MonitorRecord, source: string): VigieEvent {
  return {
    id: `google-workspace:${r.stream}:access_lost:${r.status}:${r.reason}:${r.time.slice(0, 10)}`,
    kind: 'monitor',
    time: r.time,
    provider: 'google-workspace',
    source,
    account: '',
    details: {
      type: 'access_lost',
      connector_type: 'google-workspace',
      stream: r.stream,
      api: r.api,
      status: r.status,
      reason: r.reason,
      missing: r.missing,
      error: r.error,
    },
  };
}
