import type { DetectorStateIO } from './types.js';

export interface MemoryStateOptions {
  /**
   * Store values as JSON text, the way the SQLite store does: catches state that is not plain
   * JSON and state shared by reference. Slower; meant for tests.
   */
  serialize?: boolean;
}

export interface MemoryState extends DetectorStateIO {
  /** Number of (rule, group) entries held. */
  readonly size: number;
  /** Drops entries whose `expiresAt` is before `now` (event time); returns how many went. */
  prune(now: number): number;
  entries(): IterableIterator<[string, { value: unknown; expiresAt: number | null }]>;
}

/** Detector state in memory, for `vigie replay`, the demo, rule tests and benchmarks. */
export function createMemoryState(opts: MemoryStateOptions = {}): MemoryState {
  type Entry = { value: unknown; expiresAt: number | null };
  // One map per rule: no key string to build on every lookup.
  const rules = new Map<string, Map<string, Entry>>();
  return {
    get(rule, group) {
      const hit = rules.get(rule)?.get(group);
      if (!hit) return undefined;
      return opts.serialize ? JSON.parse(hit.value as string) : hit.value;
    },
    set(rule, group, value, expiresAt) {
      let groups = rules.get(rule);
      if (!groups) rules.set(rule, (groups = new Map()));
      groups.set(group, { value: opts.serialize ? JSON.stringify(value) : value, expiresAt });
    },
    get size() {
      let n = 0;
      for (const groups of rules.values()) n += groups.size;
      return n;
    },
    prune(now) {
      let n = 0;
      for (const groups of rules.values()) {
        for (const [k, v] of groups) {
          if (v.expiresAt !== null && v.expiresAt < now) {
            groups.delete(k);
            n++;
          }
        }
      }
      return n;
    },
    *entries() {
      for (const [rule, groups] of rules) for (const [group, v] of groups) yield [`${rule}\u0000${group}`, v] as [string, Entry];
    },
  };
}
