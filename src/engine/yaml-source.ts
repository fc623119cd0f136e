import fs from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { Problem } from '../errors.js';

export type KeyPath = readonly (string | number)[];

/** A parsed YAML file that can point back at the line of any key path. */
export interface YamlSource {
  file: string;
  data: unknown;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** `tests[0].events[2].kind`, the way Problem.path spells it. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** Reads and parses one YAML file; syntax errors come back as problems with their position. */
export function readYaml(file: string): { source?: YamlSource; problems: Problem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return { problems: [{ file, message: `cannot read the file (${code})` }] };
  }
  return parseYaml(file, text);
}

export function parseYaml(file: string, text: string): { source?: YamlSource; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line,
        column: e.linePos?.[0]?.col,
        // The pretty message repeats the position and quotes the source; the first clause is enough.
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  try {
    // Aliases are capped so a crafted file cannot expand into gigabytes.
    const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    return { source: { file, data, doc, lines }, problems: [] };
  } catch (err) {
    return { problems: [{ file, message: err instanceof Error ? err.message : String(err) }] };
  }
}

/**
 * The node at `path`, or the deepest one that exists on the way. With `onKey`, the key of the
 * last segment (for "unknown key" problems) instead of its value.
 */
function findNode(src: YamlSource, path: KeyPath, onKey: boolean): Node | undefined {
  let node: unknown = src.doc.contents;
  let found: Node | undefined = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return found;
      if (last && onKey && isScalar(pair.key)) return pair.key;
      node = pair.value;
      found = (isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value) ? pair.value : pair.key) as Node;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) return found;
      node = item;
      found = item as Node;
    } else {
      return found;
    }
  }
  return found;
}

export function locate(src: YamlSource, path: KeyPath, onKey = false): { line?: number; column?: number } {
  const node = findNode(src, path, onKey);
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  const pos = src.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

export function problemAt(src: YamlSource, path: KeyPath, message: string, onKey = false): Problem {
  const p: Problem = { file: src.file, ...locate(src, path, onKey), message };
  const key = formatKeyPath(path);
  if (key) p.path = key;
  return p;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${issue.expected === 'record' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    default:
      return issue.message;
  }
}

export interface IssueAt {
  path: (string | number)[];
  message: string;
  /** Points at a key (an unknown key) rather than a value. */
  onKey: boolean;
}

/** A zod error as located, readable issues. */
export function zodIssues(error: z.ZodError): IssueAt[] {
  const out: IssueAt[] = [];
  for (const issue of error.issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"`, onKey: true });
    } else if (issue.code === 'invalid_union') {
      out.push({ path, message: issue.message === 'Invalid input' ? 'is not a valid value here' : issue.message, onKey: false });
    } else {
      out.push({ path, message: issueMessage(issue), onKey: false });
    }
  }
  return out;
}

/** Turns a zod error into located problems; `base` is where the validated value sits in the file. */
export function zodProblems(src: YamlSource, error: z.ZodError, base: KeyPath = []): Problem[] {
  return zodIssues(error).map((i) => problemAt(src, [...base, ...i.path], i.message, i.onKey));
}
