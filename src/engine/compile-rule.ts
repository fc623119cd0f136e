import type { Problem } from '../errors.js';
import type { Provider } from '../events.js';
import { compileWhen, type CompiledWhen, type ConditionEnv, type Predicate } from './conditions.js';
import { PROVIDERS } from '../events.js';
import { DETECTORS, type AnyDetector } from './detectors/index.js';
import { compileAccessor, type Accessor } from './event-paths.js';
import type { CompiledList } from './lists.js';
import type { RuleDef } from './read-rules.js';
import type { RuleSpec } from './rule-schema.js';
import { compileTemplate, type Template } from './template.js';
import type { RuleInfo } from './types.js';
import { problemAt, type KeyPath, type YamlSource } from './yaml-source.js';

export interface CompiledException {
  test: Predicate;
  /** Events at or after this time (ms) are no longer excepted. */
  untilMs?: number;
  /** Events before this time (ms) are not excepted yet. */
  fromMs?: number;
  /** `file:line` of the exception, for logs. */
  where: string;
  note?: string;
}

/** A rule ready to run: every condition, template and param compiled. */
export interface CompiledRule {
  info: RuleInfo;
  spec: RuleSpec;
  detector: AnyDetector;
  params: unknown;
  when: CompiledWhen;
  groupBy: { path: string; read: Accessor }[];
  dedupeMs: number;
  summary: Template;
  explain: Template[];
  /** Steps per provider, as templates filled with the alert's own values (plain text). */
  remediation: Partial<Record<Provider, Template[]>>;
  /** `input: alerts` rules run after the others and see `alert.*`. */
  input: 'events' | 'alerts';
  /** Severity raised when the event matches (first match wins, never lowered). */
  escalate: { test: Predicate; severity: RuleInfo['severity']; reason?: string }[];
  exceptions: CompiledException[];
}

const PARAM_REF = /^\$params\.([A-Za-z0-9_]+)$/;

/**
 * Replaces `"$params.<name>"` strings inside conditions with the rule's (possibly overridden)
 * param: thresholds in `when` become knobs users tune with `overrides.<id>.params`. Returns the
 * names used, which the detector then does not see.
 */
export function substituteParams(
  value: unknown,
  params: Readonly<Record<string, unknown>>,
  used: Set<string>,
  bad: (name: string) => void,
): unknown {
  if (typeof value === 'string') {
    const m = PARAM_REF.exec(value);
    if (!m) return value;
    const name = m[1]!;
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      bad(name);
      return value;
    }
    used.add(name);
    return params[name];
  }
  if (Array.isArray(value)) return value.map((v) => substituteParams(v, params, used, bad));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, substituteParams(v, params, used, bad)]));
  }
  return value;
}

/** Params given in an overlay's `overrides.<id>.params`, with where they were written. */
export interface ParamsOverride {
  source: YamlSource;
  at: KeyPath;
  params: Record<string, unknown>;
}

export interface CompileEnv {
  lists: ReadonlyMap<string, CompiledList>;
  problems: Problem[];
}

export function conditionEnv(source: YamlSource, base: KeyPath, env: CompileEnv): ConditionEnv {
  return {
    lists: env.lists,
    problem: (path, message, onKey) => env.problems.push(problemAt(source, [...base, ...path], message, onKey)),
  };
}

export function compileRule(
  def: RuleDef,
  env: CompileEnv,
  overrides: { severity?: RuleInfo['severity']; params?: ParamsOverride[] } = {},
): CompiledRule | undefined {
  const { spec, source } = def;
  const before = env.problems.length;
  const detector = DETECTORS[spec.detector];

  if (spec.detector === 'match' && Object.keys(spec.when).length === 0) {
    env.problems.push(problemAt(source, ['when'], 'a match rule needs at least one condition'));
  }
  // Each top-level param remembers the file that set it last, so a bad override points at the overlay.
  const merged: Record<string, unknown> = { ...spec.params };
  const owner = new Map<string, { source: YamlSource; at: KeyPath }>();
  for (const key of Object.keys(spec.params)) owner.set(key, { source, at: ['params'] });
  for (const o of overrides.params ?? []) {
    for (const [key, value] of Object.entries(o.params)) {
      merged[key] = value;
      owner.set(key, { source: o.source, at: o.at });
    }
  }
  // Thresholds named in conditions (`$params.min_items`) are the rule's own knobs, not the detector's.
  const used = new Set<string>();
  const sub = (value: unknown, at: KeyPath) =>
    substituteParams(value, merged, used, (name) =>
      env.problems.push(problemAt(source, at, `unknown param "${name}" (give it under params:)`)),
    );
  const whenSpec = sub(spec.when, ['when']);
  const escalateSpecs = spec.escalate.map((e, i) => ({ ...e, when: sub(e.when, ['escalate', i, 'when']) }));
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) if (!used.has(k)) params[k] = sub(v, ['params', k]);
  // A param used only inside another param's conditions (`alert_if`) is not the detector's either.
  for (const k of used) delete params[k];

  const when = compileWhen(whenSpec, ['when'], conditionEnv(source, [], env));
  const escalate = escalateSpecs.map((e, i) => ({
    test: compileWhen(e.when, ['escalate', i, 'when'], conditionEnv(source, [], env)).test,
    severity: e.severity,
    ...(e.reason ? { reason: e.reason } : {}),
  }));
  const locate = (path: KeyPath) => {
    const first = path[0];
    const o = typeof first === 'string' ? owner.get(first) : undefined;
    return o ? { source: o.source, path: [...o.at, ...path] } : { source, path: ['params', ...path] };
  };
  const prepared = detector.prepare(params, {
    problem: (path, message, onKey) => {
      const at = locate(path);
      env.problems.push(problemAt(at.source, at.path, message, onKey));
    },
    compileWhen: (cond, path) => {
      const at = locate(path);
      return compileWhen(cond, at.path, conditionEnv(at.source, [], env));
    },
  });

  const templateEnv = (base: KeyPath) => ({
    findingNames: new Set(detector.values),
    problem: (path: KeyPath, message: string) => env.problems.push(problemAt(source, [...base, ...path], message)),
  });
  const summary = compileTemplate(spec.summary, [], templateEnv(['summary']));
  const explain = spec.explain.map((line, i) => compileTemplate(line, [], templateEnv(['explain', i])));
  const remediation: Partial<Record<Provider, Template[]>> = {};
  for (const p of PROVIDERS) {
    const steps = spec.remediation[p as keyof typeof spec.remediation];
    if (steps) remediation[p] = steps.map((step, i) => compileTemplate(step, [], templateEnv(['remediation', p, i])));
  }

  if (env.problems.length > before || prepared === undefined) return undefined;
  return {
    info: {
      id: spec.id,
      title: spec.title,
      category: spec.category,
      severity: overrides.severity ?? spec.severity,
      status: spec.status,
      enabled: true,
      file: def.file,
      tags: spec.tags,
      detector: spec.detector,
    },
    spec,
    detector,
    params: prepared,
    when,
    groupBy: spec.group_by.map((p) => ({ path: p, read: compileAccessor(p) })),
    dedupeMs: spec.dedupe,
    summary,
    explain,
    remediation,
    input: spec.input,
    escalate,
    exceptions: [],
  };
}
