import type { DetectorStateIO } from '../engine/types.js';
import type { Store } from '../store/store.js';

interface Entry {
  value: unknown;
  expiresAt: number | null;
  dirty: boolean;
}

/**
 * Detector state for one page: reads go to the store once, writes stay in memory until `flush()`
 * runs inside the page's transaction. Dropping the cache (a crash, an error) drops the writes.
 */
export class StateCache implements DetectorStateIO {
  #store: Store;
  #entries = new Map<string, Entry>();

  constructor(store: Store) {
    this.#store = store;
  }

  get(ruleId: string, groupKey: string): unknown {
    const k = `${ruleId}\u0000${groupKey}`;
    let e = this.#entries.get(k);
    if (!e) {
      e = { value: this.#store.getDetectorState(ruleId, groupKey), expiresAt: null, dirty: false };
      this.#entries.set(k, e);
    }
    return e.value;
  }

  set(ruleId: string, groupKey: string, value: unknown, expiresAt: number | null): void {
    this.#entries.set(`${ruleId}\u0000${groupKey}`, { value, expiresAt, dirty: true });
  }

  flush(): void {
    for (const [k, e] of this.#entries) {
      if (!e.dirty) continue;
      const [rule, group] = k.split('\u0000') as [string, string];
      this.#store.setDetectorState(rule, group, e.value, e.expiresAt);
      e.dirty = false;
    }
    // Keep the cache bounded on long replays.
    if (this.#entries.size > 50_000) this.#entries.clear();
  }
}
