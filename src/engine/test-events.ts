import { parseEvent, type VigieEvent } from '../events.js';

/** Inline tests start here; events without `time` follow each other a minute apart. */
export const TEST_START_MS = Date.parse('2025-01-06T09:00:00Z');
const STEP_MS = 60_000;

const RELATIVE = /^\+\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function substitute(value: unknown, n: number): unknown {
  if (typeof value === 'string') return value.replaceAll('{n}', String(n));
  if (Array.isArray(value)) return value.map((v) => substitute(v, n));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, substitute(v, n)]));
  }
  return value;
}

export type BuiltTestEvents = { ok: true; events: VigieEvent[] } | { ok: false; index: number; error: string };

/**
 * Turns a test's partial events into VigieEvents: defaults for missing fields, `time` as an ISO
 * time or `+<n><s|m|h|d>` after the test start, and `repeat: N` for N copies in which `{n}` counts
 * 1..N (ten failures, or ten different accounts).
 */
export function buildTestEvents(partials: readonly Record<string, unknown>[]): BuiltTestEvents {
  const events: VigieEvent[] = [];
  let last = TEST_START_MS - STEP_MS;
  for (let i = 0; i < partials.length; i++) {
    const { repeat, ...partial } = partials[i]!;
    const copies = repeat === undefined ? 1 : repeat;
    if (typeof copies !== 'number' || !Number.isInteger(copies) || copies < 1 || copies > 1000) {
      return { ok: false, index: i, error: 'repeat must be a whole number from 1 to 1000' };
    }
    for (let n = 1; n <= copies; n++) {
      const p = (repeat === undefined ? partial : substitute(partial, n)) as Record<string, unknown>;
      let time: number;
      if (p.time === undefined || n > 1) {
        time = last + STEP_MS;
      } else if (typeof p.time === 'string' && RELATIVE.test(p.time)) {
        const m = RELATIVE.exec(p.time)!;
        time = TEST_START_MS + Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
      } else if (typeof p.time === 'string' && !Number.isNaN(Date.parse(p.time))) {
        time = Date.parse(p.time);
      } else {
        return { ok: false, index: i, error: 'time must be an ISO time or "+<number><s|m|h|d>" after the test start' };
      }
      last = time;
      // Inline tests of chain rules may give the alert facts other rules would have raised.
      const { alert, ...rest } = p;
      const r = parseEvent({
        id: `test:${events.length + 1}`,
        kind: 'signin',
        provider: 'microsoft-365',
        source: 'test',
        account: 'alice@party.example',
        details: {},
        ...rest,
        time: new Date(time).toISOString(),
      });
      if (!r.ok) return { ok: false, index: i, error: r.error };
      events.push(alert === undefined ? r.event : ({ ...r.event, alert } as VigieEvent));
    }
  }
  return { ok: true, events };
}
