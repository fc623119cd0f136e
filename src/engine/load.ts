import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Problem } from '../errors.js';
import type { Logger } from '../log.js';
import { applyOverlays, where } from './apply-overlays.js';
import { compileRule, type CompiledRule, type CompileEnv } from './compile-rule.js';
import { appendToList, compileList, loadListFiles, type CompiledList, type NamedList } from './lists.js';
import { readOverlay, type Overlay } from './overlays.js';
import { readRuleFiles, type RuleDef } from './read-rules.js';
import { buildTestEvents } from './test-events.js';
import { problemAt } from './yaml-source.js';

export interface LoadEngineOptions {
  /** The shipped rules folder (rules/). */
  rulesDir: string;
  /** Absolute paths of overlay YAML files (config `rules.overlays`), applied in order. */
  overlays: string[];
  /** Extra lists from the config, appended to the shipped ones. */
  lists?: Record<string, string[]>;
  /** For exception `until` expiry checks. */
  clock: Clock;
  log: Logger;
}

export interface LoadResult {
  /** Rules with overlays applied (severity, params, enablement, exceptions). */
  rules: CompiledRule[];
  /** The same rules as shipped, for their inline tests. */
  shipped: CompiledRule[];
  problems: Problem[];
}

function compileLists(lists: Map<string, NamedList>): Map<string, CompiledList> {
  return new Map([...lists].map(([name, list]) => [name, compileList(list)]));
}

/** Validates test events up front so `check-config` reports a broken test with its line. */
function checkTestEvents(def: RuleDef, problems: Problem[]): void {
  def.spec.tests.forEach((t, i) => {
    const built = buildTestEvents(t.events);
    if (!built.ok) problems.push(problemAt(def.source, ['tests', i, 'events', built.index], built.error));
  });
}

/** Reads rules, lists and overlays, compiles everything, and collects every problem found. */
export function loadRules(opts: LoadEngineOptions): LoadResult {
  const problems: Problem[] = [];
  const { defs, problems: ruleProblems } = readRuleFiles(opts.rulesDir);
  problems.push(...ruleProblems);
  const { lists: shippedLists, problems: listProblems } = loadListFiles(path.join(opts.rulesDir, 'lists'));
  problems.push(...listProblems);
  for (const def of defs) checkTestEvents(def, problems);

  const overlays: Overlay[] = [];
  for (const file of opts.overlays) {
    const { overlay, problems: p } = readOverlay(file);
    problems.push(...p);
    if (overlay) overlays.push(overlay);
  }

  const lists = new Map([...shippedLists].map(([k, v]) => [k, { ...v }]));
  for (const [name, items] of Object.entries(opts.lists ?? {})) appendToList(lists, name, items, 'config');
  for (const o of overlays) {
    for (const [name, items] of Object.entries(o.spec.lists)) appendToList(lists, name, items, where(o, ['lists', name]));
  }

  const env: CompileEnv = { lists: compileLists(lists), problems };
  const tuning = applyOverlays(defs, overlays, env, opts.clock.now(), opts.log);

  const rules: CompiledRule[] = [];
  const shipped: CompiledRule[] = [];
  // Inline tests run against the rules as shipped: a user's overrides must not break them.
  const shippedEnv: CompileEnv = { lists: compileLists(shippedLists), problems: [] };
  for (const def of defs) {
    const id = def.spec.id;
    const sev = tuning.severity.get(id);
    const params = tuning.params.get(id);
    const rule = compileRule(def, env, { ...(sev ? { severity: sev } : {}), ...(params ? { params } : {}) });
    const plain = compileRule(def, shippedEnv);
    if (plain) shipped.push(plain);
    if (!rule) continue;
    const why = tuning.disabled.get(id);
    if (why !== undefined) {
      rule.info.enabled = false;
      rule.info.disabledBy = why;
    }
    rule.exceptions = tuning.exceptions.get(id) ?? [];
    rules.push(rule);
  }
  return { rules, shipped, problems: byPosition(problems) };
}

/** Files in the order they were read, and each file's problems from top to bottom. */
function byPosition(problems: Problem[]): Problem[] {
  const fileOrder = new Map<string, number>();
  for (const p of problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        fileOrder.get(a.p.file)! - fileOrder.get(b.p.file)! ||
        (a.p.line ?? 0) - (b.p.line ?? 0) ||
        (a.p.column ?? 0) - (b.p.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}
