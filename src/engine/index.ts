/**
 * The rules engine (DESIGN §5): rule files and overlays in, an Engine that turns enriched events
 * into alerts out. Everything is compiled when loaded; nothing is interpreted per event.
 */
import { ConfigError, type Problem } from '../errors.js';
import { createEngine } from './engine.js';
import { loadRules, type LoadEngineOptions } from './load.js';
import { runTests, type RuleTestResult } from './rule-tests.js';
import type { Engine } from './types.js';

export type { LoadEngineOptions } from './load.js';
export type { RuleTestResult } from './rule-tests.js';
export type { DetectorStateIO, Engine, EvaluateContext, RuleInfo } from './types.js';
export { createMemoryState, type MemoryState } from './memory-state.js';
export { formatRulesList } from './rules-list.js';

/** Loads rules and overlays; throws ConfigError (RULES_INVALID) listing every problem found. */
export function loadEngine(opts: LoadEngineOptions): Engine {
  const { rules, problems } = loadRules(opts);
  if (problems.length) throw new ConfigError(problems, 'RULES_INVALID');
  return createEngine(rules, opts.log);
}

/** The same validation as loadEngine, returning the problems (for `vigie check-config`). */
export function checkRules(opts: LoadEngineOptions): Problem[] {
  return loadRules(opts).problems;
}

/** Runs every rule's inline tests against the rules as shipped (overlays are validated, not applied). */
export function runRuleTests(opts: LoadEngineOptions): RuleTestResult[] {
  const { shipped, problems } = loadRules(opts);
  if (problems.length) throw new ConfigError(problems, 'RULES_INVALID');
  return runTests(shipped);
}
