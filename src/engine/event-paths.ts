import type { VigieEvent } from '../events.js';

/** Top-level VigieEvent fields a rule may name; anything under `details.` is free-form. */
export const EVENT_ROOTS = [
  'id',
  'kind',
  'time',
  'provider',
  'source',
  'account',
  'actor',
  'person',
  'ip',
  'geo',
  'network',
  'outcome',
  'details',
  /** Only for rules with `input: alerts`: facts of the alerts other rules raised on the same event. */
  'alert',
] as const;

const ROOTS = new Set<string>(EVENT_ROOTS);
const SEGMENT = /^[A-Za-z0-9_-]+$/;

export type Accessor = (event: VigieEvent) => unknown;

/** Why a dotted path cannot name an event field, or undefined when it can. */
export function checkEventPath(path: string): string | undefined {
  const parts = path.split('.');
  if (parts.some((p) => !SEGMENT.test(p))) return `"${path}" is not a dotted path (letters, digits, _ and - between dots)`;
  if (!ROOTS.has(parts[0]!)) return `"${parts[0]}" is not an event field (known: ${EVENT_ROOTS.join(', ')})`;
  return undefined;
}

/**
 * A reader for one dotted path, split once at load. `person` falls back to `account` so that rules
 * keyed on the person still work before an identity map exists.
 */
export function compileAccessor(path: string): Accessor {
  const parts = path.split('.');
  if (parts.length === 1 && parts[0] === 'person') return (e) => e.person ?? e.account;
  const own = Object.prototype.hasOwnProperty;
  // The one- and two-segment paths almost every rule names, without the loop (same semantics).
  if (parts.length === 1) {
    const [a] = parts as [string];
    return (e) => (own.call(e, a) ? (e as unknown as Record<string, unknown>)[a] : undefined);
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (e) => {
      if (!own.call(e, a)) return undefined;
      const cur = (e as unknown as Record<string, unknown>)[a];
      if (cur === null || cur === undefined || typeof cur !== 'object' || !own.call(cur, b)) return undefined;
      return (cur as Record<string, unknown>)[b];
    };
  }
  return (e) => {
    let cur: unknown = e;
    for (const part of parts) {
      if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
      if (!own.call(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  };
}
