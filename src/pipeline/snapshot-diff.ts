import { createHash } from 'node:crypto';
import type { Change, VigieEvent } from '../events.js';
import type { SnapshotObject } from './connector.js';
import type { SnapshotRow } from '../store/store.js';

/** JSON with sorted keys, so that a provider reordering fields is not a change. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

/** The content hash of a snapshot object: everything but the time it was observed and the raw record. */
export function contentHash(event: Omit<VigieEvent, 'id'>): string {
  const { time: _time, raw: _raw, ...content } = event;
  return createHash('sha256').update(stableStringify(content)).digest('hex').slice(0, 24);
}

export interface ScopeDiff {
  events: VigieEvent[];
  /** What to write to the snapshot table for this scope. */
  upserts: Array<{ key: string; row: SnapshotRow }>;
  removals: string[];
}

/**
 * Compares one scope's objects with the stored snapshot. The first snapshot of a stream reports
 * everything as `present` (an onboarding audit); later ones report `created`, `updated`, `removed`.
 */
export function diffScope(args: {
  stream: string;
  scope: string;
  objects: SnapshotObject[];
  previous: Map<string, SnapshotRow>;
  first: boolean;
  /** When the snapshot was taken (ISO), the time of `removed` events. */
  observedAt: string;
}): ScopeDiff {
  const { stream, scope, objects, previous, first, observedAt } = args;
  const out: ScopeDiff = { events: [], upserts: [], removals: [] };
  const seenKeys = new Set<string>();
  const emit = (base: Omit<VigieEvent, 'id'>, hash: string, key: string, change: Change): void => {
    out.events.push({
      ...base,
      id: `${base.provider}:${stream}:${scope}:${key}:${hash}:${change}`,
      details: { ...base.details, change },
    });
  };
  for (const obj of objects) {
    if (seenKeys.has(obj.key)) continue; // a provider listing an object twice is not two objects
    seenKeys.add(obj.key);
    const hash = contentHash(obj.event);
    const prev = previous.get(obj.key);
    if (prev && prev.hash === hash) continue;
    const change: Change = prev ? 'updated' : first ? 'present' : 'created';
    const { raw: _raw, ...storable } = obj.event;
    emit(obj.event, hash, obj.key, change);
    out.upserts.push({ key: obj.key, row: { hash, event: JSON.stringify(storable) } });
  }
  for (const [key, prev] of previous) {
    if (seenKeys.has(key)) continue;
    const before = JSON.parse(prev.event) as Omit<VigieEvent, 'id'>;
    emit({ ...before, time: observedAt }, prev.hash, key, 'removed');
    out.removals.push(key);
  }
  return out;
}
