import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Problem } from '../errors.js';
import type { Logger } from '../log.js';
import { compileWhen } from './conditions.js';
import { compileRule, conditionEnv, type CompiledException, type CompiledRule, type CompileEnv, type ParamsOverride } from './compile-rule.js';
import { appendToList, compileList, loadListFiles, type CompiledList, type NamedList } from './lists.js';
import { readOverlay, untilMs, type Overlay, type Selector } from './overlays.js';
import { readRuleFiles, type RuleDef } from './read-rules.js';
import { buildTestEvents } from './test-events.js';
import type { RuleInfo } from './types.js';
import { locate, problemAt } from './yaml-source.js';

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

function where(o: Overlay, at: (string | number)[]): string {
  const pos = locate(o.source, at);
  return pos.line ? `${o.file}:${pos.line}` : o.file;
}

function describe(s: Selector): string {
  if (s.id !== undefined) return `id ${s.id}`;
  if (s.tag !== undefined) return `tag ${s.tag}`;
  if (s.category !== undefined) return `category ${s.category}`;
  return `status ${s.status}`;
}

interface Decision {
  enabled: boolean;
  /** 2 for an id, 1 for a tag, category or status: the more specific entry wins. */
  level: number;
  order: number;
  why: string;
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
  const byId = new Map(defs.map((d) => [d.spec.id, d]));
  const known = [...byId.keys()].sort();
  const unknownId = (id: string) => `unknown rule id "${id}"${known.length ? ` (known: ${known.join(', ')})` : ''}`;
  /** The rules a selector names; `at` is the selector's entry in the overlay. */
  const select = (o: Overlay, s: { id?: string; tag?: string; category?: string; status?: string }, at: (string | number)[]): RuleDef[] => {
    if (s.id !== undefined) {
      const d = byId.get(s.id);
      if (!d) problems.push(problemAt(o.source, [...at, 'id'], unknownId(s.id)));
      return d ? [d] : [];
    }
    if (s.tag !== undefined) {
      const hits = defs.filter((d) => d.spec.tags.includes(s.tag!));
      if (hits.length === 0) problems.push(problemAt(o.source, [...at, 'tag'], `no rule has the tag "${s.tag}"`));
      return hits;
    }
    if (s.category !== undefined) return defs.filter((d) => d.spec.category === s.category);
    return defs.filter((d) => d.spec.status === s.status);
  };

  // Enable / disable: rules are on unless experimental; overlays decide from there.
  const decisions = new Map<string, Decision>();
  for (const d of defs) {
    if (d.spec.status === 'experimental') {
      decisions.set(d.spec.id, { enabled: false, level: 0, order: 0, why: 'status experimental (off until an overlay enables it)' });
    }
  }
  let order = 0;
  const severity = new Map<string, RuleInfo['severity']>();
  const paramOverrides = new Map<string, ParamsOverride[]>();
  const exceptions = new Map<string, CompiledException[]>();
  const now = opts.clock.now();

  for (const o of overlays) {
    for (const [listName, enabled] of [
      ['disable', false],
      ['enable', true],
    ] as const) {
      for (const { index: i, value: s } of o.spec[listName]) {
        const hits = select(o, s, [listName, i]);
        const level = s.id !== undefined ? 2 : 1;
        order += 1;
        const why = `${where(o, [listName, i])}: ${listName} ${describe(s)}${s.note ? ` (${s.note})` : ''}`;
        for (const d of hits) {
          const prev = decisions.get(d.spec.id);
          if (!prev || level > prev.level || (level === prev.level && order > prev.order)) {
            decisions.set(d.spec.id, { enabled, level, order, why });
          }
        }
      }
    }

    for (const [id, ov] of Object.entries(o.spec.overrides)) {
      if (!byId.has(id)) {
        problems.push(problemAt(o.source, ['overrides', id], unknownId(id), true));
        continue;
      }
      if (ov.severity) severity.set(id, ov.severity);
      if (ov.params) {
        const list = paramOverrides.get(id) ?? [];
        list.push({ source: o.source, at: ['overrides', id, 'params'], params: ov.params });
        paramOverrides.set(id, list);
      }
    }

    for (const { index: i, value: ex } of o.spec.exceptions) {
      const at = ['exceptions', i];
      const targets = new Set<RuleDef>();
      const ids = ex.rule === undefined ? [] : Array.isArray(ex.rule) ? ex.rule : [ex.rule];
      ids.forEach((id, j) => {
        const d = byId.get(id);
        if (d) targets.add(d);
        else problems.push(problemAt(o.source, Array.isArray(ex.rule) ? [...at, 'rule', j] : [...at, 'rule'], unknownId(id)));
      });
      if (ex.tag !== undefined) for (const d of select(o, { tag: ex.tag }, at)) targets.add(d);
      if (ex.category !== undefined) for (const d of select(o, { category: ex.category }, at)) targets.add(d);
      if (Object.keys(ex.when).length === 0) {
        problems.push(problemAt(o.source, [...at, 'when'], 'an exception needs at least one condition; to turn a rule off, use disable'));
        continue;
      }
      const compiled = compileWhen(ex.when, [...at, 'when'], conditionEnv(o.source, [], env));
      const until = ex.until === undefined ? undefined : untilMs(ex.until);
      if (ex.until !== undefined && until === undefined) {
        problems.push(problemAt(o.source, [...at, 'until'], 'must be a date (2025-11-30) or an ISO time (2025-11-30T18:00:00Z)'));
        continue;
      }
      const place = where(o, at);
      if (until !== undefined && until <= now) {
        opts.log.warn(
          { overlay: o.file, exception: place, until: ex.until, rules: [...targets].map((d) => d.spec.id) },
          `The exception at ${place} expired on ${ex.until} and is ignored.`,
        );
        continue;
      }
      const exception: CompiledException = { test: compiled.test, where: place };
      if (until !== undefined) exception.untilMs = until;
      if (ex.note !== undefined) exception.note = ex.note;
      for (const d of targets) {
        const list = exceptions.get(d.spec.id) ?? [];
        list.push(exception);
        exceptions.set(d.spec.id, list);
      }
    }
  }

  const rules: CompiledRule[] = [];
  const shipped: CompiledRule[] = [];
  // Inline tests run against the rules as shipped: a user's overrides must not break them.
  const shippedEnv: CompileEnv = { lists: compileLists(shippedLists), problems: [] };
  for (const def of defs) {
    const id = def.spec.id;
    const sev = severity.get(id);
    const params = paramOverrides.get(id);
    const rule = compileRule(def, env, { ...(sev ? { severity: sev } : {}), ...(params ? { params } : {}) });
    const plain = compileRule(def, shippedEnv);
    if (plain) shipped.push(plain);
    if (!rule) continue;
    const decision = decisions.get(id);
    if (decision && !decision.enabled) {
      rule.info.enabled = false;
      rule.info.disabledBy = decision.why;
    }
    rule.exceptions = exceptions.get(id) ?? [];
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
