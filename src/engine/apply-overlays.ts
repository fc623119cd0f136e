import type { Logger } from '../log.js';
import type { Problem } from '../errors.js';
import { compileWhen } from './conditions.js';
import { conditionEnv, type CompiledException, type CompileEnv, type ParamsOverride } from './compile-rule.js';
import { fromMs, untilMs, type Overlay, type Selector } from './overlays.js';
import type { RuleDef } from './read-rules.js';
import type { RuleInfo } from './types.js';
import { locate, problemAt } from './yaml-source.js';

/** What the overlays say about each rule, by id. */
export interface Tuning {
  /** Only for rules that are off, with why. */
  disabled: Map<string, string>;
  severity: Map<string, RuleInfo['severity']>;
  params: Map<string, ParamsOverride[]>;
  exceptions: Map<string, CompiledException[]>;
}

/** `file:line` of an overlay entry, for messages and logs. */
export function where(o: Overlay, at: (string | number)[]): string {
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

/**
 * Applies overlays in order. Rules are on unless experimental; an entry naming an id beats one
 * naming a tag, category or status; among equals the later wins (and within a file, enable
 * comes after disable). Unknown ids and tags are problems; expired exceptions are logged and
 * dropped. `env` holds the final lists, overlay appends included.
 */
export function applyOverlays(defs: readonly RuleDef[], overlays: readonly Overlay[], env: CompileEnv, now: number, log: Logger): Tuning {
  const problems: Problem[] = env.problems;
  const byId = new Map(defs.map((d) => [d.spec.id, d]));
  const known = [...byId.keys()].sort();
  const unknownId = (id: string) => {
    const near = closest(id, known);
    return `unknown rule id "${id}"${near ? ` (did you mean "${near}"? \`vigie rules list\` shows them all)` : ' (`vigie rules list` shows the rule ids)'}`;
  };
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
      const from = ex.from === undefined ? undefined : fromMs(ex.from);
      if (ex.from !== undefined && (from === undefined || (until !== undefined && from >= until))) {
        problems.push(problemAt(o.source, [...at, 'from'], 'must be a date (2025-11-01) or an ISO time before until'));
        continue;
      }
      const place = where(o, at);
      if (until !== undefined && until <= now) {
        // Kept: it still covers older events (a replay of the trip) and lets alerts say it just ended.
        log.warn(
          { overlay: o.file, exception: place, until: ex.until, rules: [...targets].map((d) => d.spec.id) },
          `The exception at ${place} expired on ${ex.until}; it only applies to events before then.`,
        );
      }
      const exception: CompiledException = { test: compiled.test, where: place };
      if (until !== undefined) exception.untilMs = until;
      if (from !== undefined) exception.fromMs = from;
      if (ex.note !== undefined) exception.note = ex.note;
      for (const d of targets) {
        const list = exceptions.get(d.spec.id) ?? [];
        list.push(exception);
        exceptions.set(d.spec.id, list);
      }
    }
  }

  const disabled = new Map<string, string>();
  for (const [id, d] of decisions) if (!d.enabled) disabled.set(id, d.why);
  return { disabled, severity, params: paramOverrides, exceptions };
}

/** The known id nearest to a typo, when it is near enough to be the one meant. */
function closest(id: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(id.length / 4)) + 1;
  for (const k of known) {
    const d = editDistance(id, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
