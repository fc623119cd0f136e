import { EVENT_KINDS, PROVIDERS, type VigieEvent } from '../events.js';
import { cidrContains, parseCidr, parseIp, type CidrRange } from './cidr.js';
import { checkEventPath, compileAccessor } from './event-paths.js';
import type { CompiledList } from './lists.js';
import type { KeyPath } from './yaml-source.js';

/**
 * The condition language of `when:` (and of sequence steps and exceptions), compiled once at load
 * into closures: no YAML is looked at per event.
 *
 *   path: scalar          equality (strings compare case-insensitively)
 *   path: [a, b, {...}]   any of
 *   path: { op: arg, ... } every operator must hold
 *
 * When the field is a list, a value test (equality, contains, cidr...) holds if any element passes;
 * `all` makes it every element (and at least one); `exists`, `not_empty` and `not` look at the
 * field as a whole.
 */
export const OPERATORS = [
  'equals',
  'not',
  'all',
  'exists',
  'not_empty',
  'contains',
  'starts_with',
  'ends_with',
  'matches',
  'gt',
  'gte',
  'lt',
  'lte',
  'in_list',
  'cidr',
] as const;

const OPERATOR_SET = new Set<string>(OPERATORS);

/** Regexes only see the start of a value, which bounds the cost of a hostile string. */
const MATCH_INPUT_LIMIT = 4096;

export type Predicate = (event: VigieEvent) => boolean;
type ValueTest = (value: unknown) => boolean;

export interface ConditionEnv {
  lists: ReadonlyMap<string, CompiledList>;
  problem(path: KeyPath, message: string, onKey?: boolean): void;
}

export interface CompiledWhen {
  test: Predicate;
  /** The event kinds this condition can match, when it pins `kind`; lets the engine skip rules cheaply. */
  kinds?: ReadonlySet<string>;
}

const never: ValueTest = () => false;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function anyElement(value: unknown, test: ValueTest): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function asNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
  if (typeof x === 'string' && x.trim() !== '') {
    const n = Number(x);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function asText(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return undefined;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function equalsTest(expected: string | number | boolean): ValueTest {
  if (typeof expected === 'number') {
    return (v) => anyElement(v, (x) => asNumber(x) === expected);
  }
  const low = String(expected).toLowerCase();
  return (v) => anyElement(v, (x) => asText(x)?.toLowerCase() === low);
}

function stringList(arg: unknown, at: KeyPath, env: ConditionEnv, op: string): string[] | undefined {
  const items = Array.isArray(arg) ? arg : [arg];
  if (items.length === 0 || items.some((i) => typeof i !== 'string' && typeof i !== 'number')) {
    env.problem(at, `${op} takes a string or a list of strings`);
    return undefined;
  }
  return items.map(String);
}

function compileOperator(op: string, arg: unknown, at: KeyPath, env: ConditionEnv): ValueTest {
  switch (op) {
    case 'equals':
      if (typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean') return equalsTest(arg);
      env.problem(at, 'equals takes a string, number or boolean');
      return never;
    case 'not': {
      const inner = compileMatcher(arg, at, env);
      return (v) => !inner(v);
    }
    case 'all': {
      const inner = compileMatcher(arg, at, env);
      return (v) => (Array.isArray(v) ? v.length > 0 && v.every((x) => inner(x)) : inner(v));
    }
    case 'exists':
    case 'not_empty': {
      if (typeof arg !== 'boolean') {
        env.problem(at, `${op} takes true or false`);
        return never;
      }
      if (op === 'exists') return (v) => (v !== undefined && v !== null) === arg;
      return (v) => !isEmpty(v) === arg;
    }
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      const needles = stringList(arg, at, env, op)?.map((n) => n.toLowerCase());
      if (!needles) return never;
      const hit =
        op === 'contains'
          ? (s: string) => needles.some((n) => s.includes(n))
          : op === 'starts_with'
            ? (s: string) => needles.some((n) => s.startsWith(n))
            : (s: string) => needles.some((n) => s.endsWith(n));
      return (v) =>
        anyElement(v, (x) => {
          const s = asText(x);
          return s !== undefined && hit(s.toLowerCase());
        });
    }
    case 'matches': {
      const patterns = stringList(arg, at, env, op);
      if (!patterns) return never;
      const regexes: RegExp[] = [];
      for (const p of patterns) {
        try {
          regexes.push(new RegExp(p, 'i'));
        } catch (err) {
          env.problem(at, `invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}`);
          return never;
        }
      }
      return (v) =>
        anyElement(v, (x) => {
          const s = asText(x);
          if (s === undefined) return false;
          const head = s.length > MATCH_INPUT_LIMIT ? s.slice(0, MATCH_INPUT_LIMIT) : s;
          return regexes.some((r) => r.test(head));
        });
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof arg !== 'number' || !Number.isFinite(arg)) {
        env.problem(at, `${op} takes a number`);
        return never;
      }
      const cmp =
        op === 'gt' ? (n: number) => n > arg : op === 'gte' ? (n: number) => n >= arg : op === 'lt' ? (n: number) => n < arg : (n: number) => n <= arg;
      return (v) =>
        anyElement(v, (x) => {
          const n = asNumber(x);
          return n !== undefined && cmp(n);
        });
    }
    case 'in_list': {
      const names = stringList(arg, at, env, op);
      if (!names) return never;
      const lists: CompiledList[] = [];
      for (const name of names) {
        const list = env.lists.get(name);
        if (!list) env.problem(at, `unknown list "${name}" (known: ${[...env.lists.keys()].sort().join(', ') || 'none'})`);
        else lists.push(list);
      }
      return (v) => anyElement(v, (x) => lists.some((l) => l.has(x)));
    }
    case 'cidr': {
      const texts = stringList(arg, at, env, op);
      if (!texts) return never;
      const ranges: CidrRange[] = [];
      for (const t of texts) {
        const r = parseCidr(t);
        if (!r) env.problem(at, `"${t}" is not an IP address or CIDR range`);
        else ranges.push(r);
      }
      return (v) =>
        anyElement(v, (x) => {
          const ip = typeof x === 'string' ? parseIp(x) : undefined;
          return ip !== undefined && ranges.some((r) => cidrContains(r, ip));
        });
    }
    default:
      env.problem(at, `unknown operator "${op}" (known: ${OPERATORS.join(', ')})`, true);
      return never;
  }
}

/** One field's matcher: a scalar, a list (any of) or a mapping of operators (all of). */
export function compileMatcher(spec: unknown, at: KeyPath, env: ConditionEnv): ValueTest {
  if (spec === null) return (v) => v === undefined || v === null;
  if (typeof spec === 'string' || typeof spec === 'number' || typeof spec === 'boolean') return equalsTest(spec);
  if (Array.isArray(spec)) {
    if (spec.length === 0) {
      env.problem(at, 'an empty list matches nothing; remove the key or give values');
      return never;
    }
    const tests = spec.map((item, i) => {
      if (Array.isArray(item)) {
        env.problem([...at, i], 'lists cannot be nested');
        return never;
      }
      return compileMatcher(item, [...at, i], env);
    });
    return (v) => tests.some((t) => t(v));
  }
  if (isPlainObject(spec)) {
    const entries = Object.entries(spec);
    if (entries.length === 0) {
      env.problem(at, 'an empty mapping is not a condition');
      return never;
    }
    const tests: ValueTest[] = [];
    for (const [op, arg] of entries) {
      if (!OPERATOR_SET.has(op)) {
        const hint = op.includes('.') || !/^[a-z_]+$/.test(op) ? '; name nested fields with a dotted path instead' : '';
        env.problem([...at, op], `unknown operator "${op}" (known: ${OPERATORS.join(', ')})${hint}`, true);
        continue;
      }
      tests.push(compileOperator(op, arg, [...at, op], env));
    }
    return tests.length === 1 ? tests[0]! : (v) => tests.every((t) => t(v));
  }
  env.problem(at, 'a condition must be a value, a list of values or a mapping of operators');
  return never;
}

function pinnedKinds(spec: unknown): Set<string> | undefined {
  if (typeof spec === 'string') return new Set([spec.toLowerCase()]);
  if (Array.isArray(spec) && spec.length > 0 && spec.every((s) => typeof s === 'string')) return new Set((spec as string[]).map((s) => s.toLowerCase()));
  return undefined;
}

/** Fields with a closed set of values: a typo there would silently match nothing. */
const CLOSED: Record<string, readonly string[]> = {
  kind: EVENT_KINDS,
  provider: PROVIDERS,
  outcome: ['success', 'failure'],
};

function checkClosed(key: string, spec: unknown, at: KeyPath, env: ConditionEnv): void {
  const allowed = CLOSED[key];
  if (!allowed) return;
  const items = Array.isArray(spec) ? spec : [spec];
  items.forEach((item, i) => {
    if (typeof item === 'string' && !allowed.includes(item.toLowerCase())) {
      env.problem(Array.isArray(spec) ? [...at, i] : at, `"${item}" is not a ${key} (known: ${allowed.join(', ')})`);
    }
  });
}

/** The key of a `when` mapping that holds a list of mappings, any of which may hold. */
export const ANY_OF = 'any_of';

/** Compiles a `when:` mapping (AND of its keys). `{}` matches every event. */
export function compileWhen(when: unknown, at: KeyPath, env: ConditionEnv): CompiledWhen {
  if (!isPlainObject(when)) {
    env.problem(at, 'must be a mapping of event paths to conditions');
    return { test: () => false };
  }
  const fields: { read: (e: VigieEvent) => unknown; test: ValueTest }[] = [];
  // `kind` first: it rejects most events for the price of one string compare.
  const keys = Object.keys(when).sort((a, b) => (a === 'kind' ? -1 : b === 'kind' ? 1 : 0));
  for (const key of keys) {
    if (key === ANY_OF) {
      // `any_of: [ {mapping}, {mapping} ]`: at least one of the mappings holds (OR across fields).
      const list = when[key];
      if (!Array.isArray(list) || list.length === 0) {
        env.problem([...at, key], 'any_of takes a non-empty list of condition mappings');
        continue;
      }
      const tests = list.map((m, i) => compileWhen(m, [...at, key, i], env).test);
      fields.push({ read: (e) => e, test: (e) => tests.some((t) => t(e as VigieEvent)) });
      continue;
    }
    const bad = checkEventPath(key);
    if (bad) {
      env.problem([...at, key], bad, true);
      continue;
    }
    checkClosed(key, when[key], [...at, key], env);
    fields.push({ read: compileAccessor(key), test: compileMatcher(when[key], [...at, key], env) });
  }
  const kinds = pinnedKinds(when.kind);
  const test: Predicate =
    fields.length === 0
      ? () => true
      : (e) => {
          for (const f of fields) if (!f.test(f.read(e))) return false;
          return true;
        };
  return kinds ? { test, kinds } : { test };
}
