import type { VigieEvent } from '../events.js';
import { checkEventPath, compileAccessor } from './event-paths.js';
import { plainText, valueText } from './text.js';
import type { KeyPath } from './yaml-source.js';

/**
 * `summary` and `explain` templates: `{account}`, `{details.external_targets}`, `{finding.count}`.
 * Placeholders are parsed once at load; values are inserted as plain text (arrays joined with ", ",
 * control characters removed, length capped). Nothing in a value is ever evaluated or interpreted,
 * so an inbox rule named "{account}" prints as that literal text. `{{` and `}}` are literal braces.
 *
 * Remediation steps are commands an admin pastes at 2 a.m.: a value that goes into a command takes
 * a quoting filter, `{details.name|ps}` (a PowerShell single-quoted literal) or `{details.name|sh}`
 * (a POSIX shell one), so an attacker-chosen rule name can never end the string and add a command.
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
    const [rawName, filter, ...extra] = text.slice(i + 1, end).split('|').map((x) => x.trim());
    const name = rawName ?? '';
    if (literal) parts.push(literal);
    if (extra.length || (filter !== undefined && !(filter in QUOTERS))) {
      env.problem(at, `placeholder {${text.slice(i + 1, end).trim()}}: unknown filter (known: ${Object.keys(QUOTERS).join(', ')})`);
    }
    const quote = filter !== undefined ? QUOTERS[filter] : undefined;
    literal = '';
    if (name.startsWith('finding.')) {
      const key = name.slice('finding.'.length);
      if (!env.findingNames.has(key)) {
        const known = [...env.findingNames].map((n) => `finding.${n}`).join(', ') || 'none for this detector';
        env.problem(at, `unknown placeholder {${name}} (known: ${known})`);
      }
      parts.push(quote ? (_e, f) => new Quoted(quote(valueText(f[key], VALUE_LIMIT))) : (_e, f) => f[key]);
    } else {
      const bad = checkEventPath(name);
      if (bad) env.problem(at, `placeholder {${name}}: ${bad}`);
      const read = compileAccessor(name);
      parts.push(quote ? (e) => new Quoted(quote(valueText(read(e), VALUE_LIMIT))) : (e) => read(e));
    }
    i = end + 1;
  }
  if (literal) parts.push(literal);
  return (event, finding) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const v = p(event, finding);
      out += v instanceof Quoted ? v.text : valueText(v, VALUE_LIMIT);
    }
    return plainText(out, LINE_LIMIT);
  };
}

/** A value already quoted for a shell: inserted as is (valueText would not change it anyway). */
class Quoted {
  constructor(readonly text: string) {}
}

/**
 * PowerShell treats the typographic single quotes as quotes too, so each is doubled like `'`.
 * POSIX shells have no escape inside single quotes: close, add an escaped quote, reopen.
 */
const QUOTERS: Record<string, (s: string) => string> = {
  ps: (s) => `'${s.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`,
  sh: (s) => `'${s.replace(/'/g, `'\\''`)}'`,
};
