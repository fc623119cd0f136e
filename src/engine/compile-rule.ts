import type { Problem } from '../errors.js';
import type { Provider } from '../events.js';
import { compileWhen, type CompiledWhen, type ConditionEnv, type Predicate } from './conditions.js';
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
  remediation: Partial<Record<Provider, string[]>>;
  exceptions: CompiledException[];
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
  const when = compileWhen(spec.when, ['when'], conditionEnv(source, [], env));

  // Each top-level param remembers the file that set it last, so a bad override points at the overlay.
  const params: Record<string, unknown> = { ...spec.params };
  const owner = new Map<string, { source: YamlSource; at: KeyPath }>();
  for (const key of Object.keys(spec.params)) owner.set(key, { source, at: ['params'] });
  for (const o of overrides.params ?? []) {
    for (const [key, value] of Object.entries(o.params)) {
      params[key] = value;
      owner.set(key, { source: o.source, at: o.at });
    }
  }
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
    remediation: spec.remediation,
    exceptions: [],
  };
}
