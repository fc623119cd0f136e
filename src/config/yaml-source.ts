import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, Scalar } from 'yaml';
import type { Problem } from '../errors.js';
import { interpolate, retypePlain } from './interpolate.js';

export type KeyPath = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML file that can say where any key path of its data is written. */
export interface YamlSource {
  /** Plain data, after `${VAR}` interpolation. */
  data: unknown;
  /** The value at `path` (or its key when it has no value); the nearest written ancestor when absent. */
  valueAt(path: KeyPath): Position | undefined;
  /** The key of the entry at `path` itself: where an unknown key must be pointed at. */
  keyAt(path: KeyPath): Position | undefined;
  /** The object that should contain `path`: where a missing key is reported. */
  parentAt(path: KeyPath): Position | undefined;
  /** True when the value at `path` already has an interpolation problem (so validation noise is dropped). */
  isBroken(path: KeyPath): boolean;
}

/** Billion-laughs guard: yaml counts expanded alias nodes against this. */
const MAX_ALIAS_COUNT = 100;

/** Keys that would reach Object.prototype in a careless consumer. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Duplicate keys are reported but the rest of the file can still be checked; other YAML errors make the data meaningless. */
const RECOVERABLE_YAML_ERRORS = new Set(['DUPLICATE_KEY']);

export function readYaml(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
): { source?: YamlSource; problems: Problem[] } {
  const lineCounter = new LineCounter();
  // prettyErrors off: its excerpts of the source line could echo a secret written inline.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const pos = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const nodePos = (node: Node | null | undefined): Position | undefined =>
    node?.range ? pos(node.range[0]) : undefined;
  const problems: Problem[] = [];
  const problem = (at: Position | undefined, message: string, path?: string) =>
    problems.push({ file, ...(at && { line: at.line, column: at.column }), ...(path && { path }), message });

  let fatal = false;
  for (const e of doc.errors) {
    problem(pos(e.pos[0]), e.message);
    if (!RECOVERABLE_YAML_ERRORS.has(e.code)) fatal = true;
  }
  for (const w of doc.warnings) problem(pos(w.pos[0]), w.message);
  if (fatal) return { problems };

  const broken = new Set<Node>();
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
        problem(nodePos(pair.key), `the key "${String(pair.key.value)}" is not allowed`);
        return visit.REMOVE;
      }
      return undefined;
    },
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = interpolate(node.value, env);
      if (!result.ok) {
        for (const message of result.errors) problem(nodePos(node), message);
        broken.add(node);
        return;
      }
      (node as Scalar).value = node.type === 'PLAIN' ? retypePlain(result.value) : result.value;
    },
  });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    problem(undefined, `cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    return { problems };
  }

  const trail = (path: KeyPath) => walk(doc, path);
  const rootPos = () => nodePos(doc.contents) ?? { line: 1, column: 1 };
  const stepPos = (s: Step | undefined, prefer: 'key' | 'value') =>
    s === undefined ? rootPos() : prefer === 'key' ? nodePos(s.key ?? s.value) : nodePos(s.value ?? s.key);

  const source: YamlSource = {
    data,
    valueAt(path) {
      const steps = trail(path);
      if (steps.length === path.length) return stepPos(steps.at(-1), 'value');
      const sibling = secretFileSibling(path);
      if (sibling && trail(sibling).length === sibling.length) return stepPos(trail(sibling).at(-1), 'value');
      return stepPos(steps.at(-1), 'key');
    },
    keyAt(path) {
      const steps = trail(path);
      return stepPos(steps.at(-1), steps.length === path.length ? 'key' : 'value');
    },
    parentAt(path) {
      return stepPos(trail(path.slice(0, -1)).at(-1), 'key');
    },
    isBroken(path) {
      const steps = trail(path);
      const last = steps.at(-1)?.value;
      return steps.length === path.length && last != null && broken.has(deref(doc, last) as Node);
    },
  };
  return { source, problems };
}

/** A secret read from `<key>_file` has no `<key>` in the file: point at the `_file` key instead. */
function secretFileSibling(path: KeyPath): KeyPath | undefined {
  const last = path.at(-1);
  return typeof last === 'string' ? [...path.slice(0, -1), `${last}_file`] : undefined;
}

interface Step {
  key?: Node;
  value?: Node | null;
}

/** Follows `path` through maps, sequences, aliases and merge keys; stops at the first segment not written. */
function walk(doc: Document, path: KeyPath): Step[] {
  const steps: Step[] = [];
  let node: unknown = doc.contents;
  for (const seg of path) {
    const step = child(doc, node, seg, 0);
    if (!step) break;
    steps.push(step);
    node = step.value;
  }
  return steps;
}

function child(doc: Document, raw: unknown, seg: string | number, depth: number): Step | undefined {
  if (depth > 20) return undefined;
  const node = deref(doc, raw);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && String(pair.key.value) === String(seg)) {
        return { key: pair.key, value: pair.value as Node | null };
      }
    }
    for (const pair of node.items) {
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol') {
        const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
        for (const s of sources) {
          const found = child(doc, s, seg, depth + 1);
          if (found) return found;
        }
      }
    }
  } else if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    if (item !== undefined) return { value: item as Node | null };
  }
  return undefined;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}
