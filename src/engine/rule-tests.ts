import type { Alert } from '../alerts/alert.js';
import { createEnricher } from '../enrich/index.js';
import { silentLogger } from '../log.js';
import type { CompiledRule } from './compile-rule.js';
import { createEngine } from './engine.js';
import { createMemoryState } from './memory-state.js';
import { isPositiveTest, type RuleTestSpec } from './rule-schema.js';
import { buildTestEvents } from './test-events.js';

export interface RuleTestResult {
  rule: string;
  test: string;
  passed: boolean;
  message?: string;
}

const DEFAULT_DOMAINS = ['party.example'];

function check(spec: RuleTestSpec, alerts: Alert[]): string | undefined {
  const n = alerts.length;
  const list = () => alerts.map((a) => `"${a.summary}"`).join('; ');
  if (spec.expect === 'alert') return n > 0 ? undefined : 'expected an alert, got none';
  if (spec.expect === 'no_alert') return n === 0 ? undefined : `expected no alert, got ${n}: ${list()}`;
  const e = spec.expect;
  if (e.count !== undefined && n !== e.count) return `expected ${e.count} alert(s), got ${n}${n ? `: ${list()}` : ''}`;
  if (e.count === undefined && n === 0) return 'expected an alert, got none';
  if (e.summary_contains && !alerts.some((a) => a.summary.includes(e.summary_contains!))) {
    return `no alert summary contains "${e.summary_contains}"; got: ${list()}`;
  }
  if (e.explanation_contains && !alerts.some((a) => a.explanation.some((l) => l.includes(e.explanation_contains!)))) {
    return `no explanation line contains "${e.explanation_contains}"; got: ${alerts.flatMap((a) => a.explanation).join(' | ')}`;
  }
  return undefined;
}

/** Runs one inline test on a fresh in-memory state; alerts are counted by id, as the store keeps them. */
export function runRuleTest(rule: CompiledRule, spec: RuleTestSpec): RuleTestResult {
  const result = { rule: rule.info.id, test: spec.name };
  const built = buildTestEvents(spec.events);
  if (!built.ok) return { ...result, passed: false, message: `event ${built.index + 1}: ${built.error}` };
  const engine = createEngine([{ ...rule, info: { ...rule.info, enabled: true }, exceptions: [] }], silentLogger);
  const enrich = createEnricher({ domains: spec.organisation_domains ?? DEFAULT_DOMAINS });
  const state = createMemoryState({ serialize: true });
  const alerts = new Map<string, Alert>();
  try {
    for (const event of built.events) {
      for (const a of engine.evaluate(enrich(event), { state, learning: false })) alerts.set(a.id, a);
    }
  } catch (err) {
    return { ...result, passed: false, message: `threw: ${err instanceof Error ? err.message : String(err)}` };
  }
  const message = check(spec, [...alerts.values()]);
  return message ? { ...result, passed: false, message } : { ...result, passed: true };
}

/** Every inline test of every rule, plus a failure for a rule without a positive and a negative test. */
export function runTests(rules: readonly CompiledRule[]): RuleTestResult[] {
  const out: RuleTestResult[] = [];
  for (const rule of [...rules].sort((a, b) => a.info.id.localeCompare(b.info.id))) {
    const tests = rule.spec.tests;
    if (!tests.some(isPositiveTest) || !tests.some((t) => !isPositiveTest(t))) {
      out.push({
        rule: rule.info.id,
        test: '(coverage)',
        passed: false,
        message: 'every rule needs at least one test that expects an alert and one that expects none',
      });
    }
    for (const t of tests) out.push(runRuleTest(rule, t));
  }
  return out;
}
