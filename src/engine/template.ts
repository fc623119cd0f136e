import type { VigieEvent } from '../events.js';
import { checkEventPath, compileAccessor } from './event-paths.js';
import { plainText, valueText } from './text.js';
import type { KeyPath } from './yaml-source.js';

/**
 * `summary` and `explain` templates: `{account}`, `{details.external_targets}`, `{finding.count}`.
 * Placeholders are parsed once at load; values are inserted as plain text (arrays joined with ", ",
 * control characters removed, length capped). Nothing in a value is ever evaluated or interpreted,
 * so an inbox rule named "{account}" prints as that literal text. `{{` and `}}` are literal braces.
 */
export type FindingValues = Readonly<Record<string, unknown>>;
export type Template = (event: VigieEvent, finding: FindingValues) => string;

export interface TemplateEnv {
  /** Names a detector offers under `finding.`. */
  findingNames: ReadonlySet<string>;
  problem(path: KeyPath, message: string): void;
}

const VALUE_LIMIT = 200;
const LINE_LIMIT = 600;

type Part = string | ((event: VigieEvent, finding: FindingValues) => unknown);

export function compileTemplate(text: string, at: KeyPath, env: TemplateEnv): Template {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c;
      i += 2;
      continue;
    }
    if (c === '}') {
      env.problem(at, `unbalanced "}" at character ${i + 1}; write "}}" for a literal brace`);
      return () => '';
    }
    if (c !== '{') {
      literal += c;
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 1);
    if (end < 0) {
      env.problem(at, `unclosed "{" at character ${i + 1}; write "{{" for a literal brace`);
      return () => '';
    }
    const name = text.slice(i + 1, end).trim();
    if (literal) parts.push(literal);
    literal = '';
    if (name.startsWith('finding.')) {
      const key = name.slice('finding.'.length);
      if (!env.findingNames.has(key)) {
        const known = [...env.findingNames].map((n) => `finding.${n}`).join(', ') || 'none for this detector';
        env.problem(at, `unknown placeholder {${name}} (known: ${known})`);
      }
      parts.push((_e, f) => f[key]);
    } else {
      const bad = checkEventPath(name);
      if (bad) env.problem(at, `placeholder {${name}}: ${bad}`);
      const read = compileAccessor(name);
      parts.push((e) => read(e));
    }
    i = end + 1;
  }
  if (literal) parts.push(literal);
  return (event, finding) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : valueText(p(event, finding), VALUE_LIMIT);
    return plainText(out, LINE_LIMIT);
  };
}
