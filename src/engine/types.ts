import type { Alert } from '../alerts/alert.js';
import type { VigieEvent } from '../events.js';

/**
 * Detector state is read and written through this during one page's transaction, so a crash
 * replays the page against the state as it was before it.
 */
export interface DetectorStateIO {
  get(ruleId: string, groupKey: string): unknown;
  /** `expiresAt` (ms since epoch, event time) lets the store prune state that can no longer matter. */
  set(ruleId: string, groupKey: string, value: unknown, expiresAt: number | null): void;
}

export interface EvaluateContext {
  state: DetectorStateIO;
  /** True while a first run's backfill feeds baselines: state is updated, alerts are not returned. */
  learning: boolean;
}

export interface RuleInfo {
  id: string;
  title: string;
  category: Alert['category'];
  severity: Alert['severity'];
  status: 'stable' | 'test' | 'experimental';
  enabled: boolean;
  /** Why a rule is disabled (overlay file and entry), for `vigie rules list`. */
  disabledBy?: string;
  file: string;
  /** Added for `vigie rules list` and routing by tag; optional so existing fakes still type-check. */
  tags?: readonly string[];
  /** The detector kind (match, threshold, new_value, velocity, sequence). */
  detector?: string;
}

export interface Engine {
  readonly rules: readonly RuleInfo[];
  /** Runs every enabled rule over one (enriched) event. */
  evaluate(event: VigieEvent, ctx: EvaluateContext): Alert[];
}
