/**
 * A Sieve (RFC 5228) parser and a summary of what a script does with mail. Scripts are written by
 * whoever controls the mailbox, which after a takeover is the attacker: the parser is bounded in
 * size, nesting and work, and never throws out of `parseSieve`.
 */

export type SieveArgument =
  | { type: 'string'; value: string }
  | { type: 'string-list'; values: string[] }
  | { type: 'number'; value: number }
  | { type: 'tag'; name: string };

export interface SieveTest {
  name: string;
  args: SieveArgument[];
  tests: SieveTest[];
  line: number;
}

export interface SieveCommand {
  name: string;
  args: SieveArgument[];
  tests: SieveTest[];
  /** Present for commands followed by `{ ... }`. */
  block?: SieveCommand[];
  line: number;
}

export type SieveParseResult = { ok: true; commands: SieveCommand[] } | { ok: false; error: string; line: number };

export interface SieveLimits {
  /** Characters (Dovecot's own sieve_max_script_size defaults to 1 MB). */
  maxLength: number;
  /** Nested blocks and tests together. */
  maxDepth: number;
  /** Tokens in the whole script: bounds the work of every later pass too. */
  maxTokens: number;
}

export const DEFAULT_SIEVE_LIMITS: SieveLimits = { maxLength: 1_048_576, maxDepth: 64, maxTokens: 200_000 };

type Token =
  | { t: 'ident'; v: string; line: number }
  | { t: 'tag'; v: string; line: number }
  | { t: 'number'; v: number; line: number }
  | { t: 'string'; v: string; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'eof'; line: number };

class SieveSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const TAG = /:([A-Za-z_][A-Za-z0-9_]*)/y;
const QUANTIFIERS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

function tokenize(src: string, maxTokens: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  const push = (tok: Token): void => {
    if (out.length >= maxTokens) throw new SieveSyntaxError(`script has more than ${maxTokens} tokens`, line);
    out.push(tok);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const start = line;
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new SieveSyntaxError('unterminated /* comment', start);
      line += countNewlines(src, i, end);
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new SieveSyntaxError('unterminated string', start);
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n) {
          // RFC 5228 2.4.2: `\\` and `\"` escape; any other backslash is dropped.
          const e = src[i + 1]!;
          if (e === '\n') line++;
          value += e;
          i += 2;
          continue;
        }
        if (d === '\n') line++;
        value += d;
        i++;
      }
      push({ t: 'string', v: value, line: start });
    } else if (c === ':') {
      TAG.lastIndex = i;
      const r = TAG.exec(src);
      if (!r) throw new SieveSyntaxError('":" must start a tag such as :copy', line);
      push({ t: 'tag', v: r[1]!.toLowerCase(), line });
      i += r[0].length;
    } else if (c >= '0' && c <= '9') {
      let j = i;
      while (j < n && src[j]! >= '0' && src[j]! <= '9') j++;
      let v = Number(src.slice(i, j));
      const q = src[j];
      if (q !== undefined && Object.hasOwn(QUANTIFIERS, q.toUpperCase())) {
        v *= QUANTIFIERS[q.toUpperCase()]!;
        j++;
      }
      push({ t: 'number', v, line });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      if (word.toLowerCase() === 'text' && src[j] === ':') {
        const r = readMultiline(src, j + 1, line);
        push({ t: 'string', v: r.value, line });
        line = r.line;
        i = r.end;
      } else {
        push({ t: 'ident', v: word.toLowerCase(), line });
        i = j;
      }
    } else if ('{}[]();,'.includes(c)) {
      push({ t: 'punct', v: c, line });
      i++;
    } else {
      throw new SieveSyntaxError(`unexpected character ${JSON.stringify(c)}`, line);
    }
  }
  out.push({ t: 'eof', line });
  return out;
}

function countNewlines(s: string, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) k++;
  return k;
}

/**
 * `text:` [spaces] [# comment] CRLF, then lines up to one holding only "."; a line starting with
 * ".." loses one dot (RFC 5228 2.4.2 dot-stuffing).
 */
function readMultiline(src: string, from: number, startLine: number): { value: string; end: number; line: number } {
  let i = from;
  while (src[i] === ' ' || src[i] === '\t') i++;
  if (src[i] === '#') while (i < src.length && src[i] !== '\n') i++;
  if (src[i] === '\r') i++;
  if (src[i] !== '\n') throw new SieveSyntaxError('"text:" must be followed by the end of the line', startLine);
  i++;
  let line = startLine + 1;
  const lines: string[] = [];
  for (;;) {
    if (i >= src.length) throw new SieveSyntaxError('unterminated text: string (no line with a single ".")', startLine);
    let eol = src.indexOf('\n', i);
    if (eol < 0) eol = src.length;
    let text = src.slice(i, eol);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    i = eol + 1;
    if (text === '.') {
      line++;
      break;
    }
    lines.push(text.startsWith('..') ? text.slice(1) : text);
    line++;
  }
  return { value: lines.map((l) => `${l}\r\n`).join(''), end: Math.min(i, src.length), line };
}

class Parser {
  #pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly maxDepth: number,
  ) {}

  #peek(): Token {
    return this.toks[this.#pos]!;
  }

  #next(): Token {
    const t = this.toks[this.#pos]!;
    if (t.t !== 'eof') this.#pos++;
    return t;
  }

  #isPunct(v: string): boolean {
    const t = this.#peek();
    return t.t === 'punct' && t.v === v;
  }

  #expect(v: string, what: string): void {
    const t = this.#next();
    if (t.t !== 'punct' || t.v !== v) throw new SieveSyntaxError(`expected ${JSON.stringify(v)} ${what}, found ${describe(t)}`, t.line);
  }

  script(): SieveCommand[] {
    const cmds = this.#commands(0);
    const t = this.#peek();
    if (t.t !== 'eof') throw new SieveSyntaxError(`unexpected ${describe(t)}`, t.line);
    return cmds;
  }

  #commands(depth: number): SieveCommand[] {
    const out: SieveCommand[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.t !== 'ident') return out;
      out.push(this.#command(depth));
    }
  }

  #command(depth: number): SieveCommand {
    const id = this.#next() as Extract<Token, { t: 'ident' }>;
    const { args, tests } = this.#arguments(depth);
    const cmd: SieveCommand = { name: id.v, args, tests, line: id.line };
    if (this.#isPunct(';')) {
      this.#next();
      return cmd;
    }
    if (this.#isPunct('{')) {
      if (depth + 1 > this.maxDepth) throw new SieveSyntaxError(`blocks nested deeper than ${this.maxDepth}`, id.line);
      this.#next();
      cmd.block = this.#commands(depth + 1);
      this.#expect('}', `to close the block of "${id.v}"`);
      return cmd;
    }
    const t = this.#peek();
    throw new SieveSyntaxError(`expected ";" or "{" after "${id.v}", found ${describe(t)}`, t.line);
  }

  #arguments(depth: number): { args: SieveArgument[]; tests: SieveTest[] } {
    const args: SieveArgument[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.t === 'string') {
        this.#next();
        args.push({ type: 'string', value: t.v });
      } else if (t.t === 'number') {
        this.#next();
        args.push({ type: 'number', value: t.v });
      } else if (t.t === 'tag') {
        this.#next();
        args.push({ type: 'tag', name: t.v });
      } else if (t.t === 'punct' && t.v === '[') {
        args.push(this.#stringList());
      } else break;
    }
    const t = this.#peek();
    if (t.t === 'ident') return { args, tests: [this.#test(depth + 1)] };
    if (t.t === 'punct' && t.v === '(') return { args, tests: this.#testList(depth + 1) };
    return { args, tests: [] };
  }

  #stringList(): SieveArgument {
    this.#expect('[', 'to open a string list');
    const values: string[] = [];
    for (;;) {
      const t = this.#next();
      if (t.t !== 'string') throw new SieveSyntaxError(`expected a string in the list, found ${describe(t)}`, t.line);
      values.push(t.v);
      if (this.#isPunct(',')) {
        this.#next();
        continue;
      }
      this.#expect(']', 'to close the string list');
      return { type: 'string-list', values };
    }
  }

  #test(depth: number): SieveTest {
    const id = this.#next();
    if (id.t !== 'ident') throw new SieveSyntaxError(`expected a test, found ${describe(id)}`, id.line);
    if (depth > this.maxDepth) throw new SieveSyntaxError(`tests nested deeper than ${this.maxDepth}`, id.line);
    const { args, tests } = this.#arguments(depth);
    return { name: id.v, args, tests, line: id.line };
  }

  #testList(depth: number): SieveTest[] {
    const open = this.#peek();
    this.#expect('(', 'to open a test list');
    if (depth > this.maxDepth) throw new SieveSyntaxError(`tests nested deeper than ${this.maxDepth}`, open.line);
    const tests: SieveTest[] = [this.#test(depth)];
    while (this.#isPunct(',')) {
      this.#next();
      tests.push(this.#test(depth));
    }
    this.#expect(')', 'to close the test list');
    return tests;
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'eof':
      return 'the end of the script';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'tag':
      return `tag ":${t.v}"`;
    case 'ident':
      return `"${t.v}"`;
    case 'punct':
      return `"${t.v}"`;
  }
}

/** Parses a Sieve script into commands. Never throws; `line` is 1-based. */
export function parseSieve(source: string, limits: Partial<SieveLimits> = {}): SieveParseResult {
  const lim = { ...DEFAULT_SIEVE_LIMITS, ...limits };
  try {
    if (typeof source !== 'string') return { ok: false, error: 'script is not text', line: 1 };
    if (source.length > lim.maxLength) return { ok: false, error: `script is longer than ${lim.maxLength} characters`, line: 1 };
    const toks = tokenize(source, lim.maxTokens);
    return { ok: true, commands: new Parser(toks, lim.maxDepth).script() };
  } catch (err) {
    if (err instanceof SieveSyntaxError) return { ok: false, error: err.message, line: err.line };
    // A stack overflow or anything else unexpected is still a script we cannot read, not a crash.
    return { ok: false, error: `script could not be read (${err instanceof Error ? err.name : 'error'})`, line: 1 };
  }
}

// ---------------------------------------------------------------------------------------------
// What the script does with mail.

export interface SieveAction {
  /** The Sieve command: redirect, discard, fileinto, keep, addflag, setflag, stop, vacation, reject... */
  name: string;
  line: number;
  /** redirect: the address; fileinto: the folder; vacation: the reason's first line. */
  target?: string;
  /** `:copy` (RFC 3894): the message is also kept. */
  copy?: boolean;
  /** Flags set by addflag/setflag, or by `:flags` on fileinto/keep. */
  flags?: string[];
}

/** Actions that run under the same conditions (one branch of an if, or the top level). */
export interface SieveRule {
  /** 1-based, in script order among the rules that have actions. */
  index: number;
  line: number;
  /** Every one of these must hold; each is one test written back as Sieve text. */
  conditions: string[];
  /** The conditions joined by "and", or "always". */
  summary: string;
  actions: SieveAction[];
  redirect_to: string[];
  /** The message still lands in the mailbox (explicit keep or fileinto, or the implicit keep survives). */
  keep_copy: boolean;
  delete: boolean;
  move_to_folder?: string;
  mark_as_read: boolean;
  stop_processing: boolean;
  vacation: boolean;
  reject: boolean;
}

export interface SieveInclude {
  script: string;
  location: 'personal' | 'global';
  optional: boolean;
  conditions: string[];
}

export interface SieveSummary {
  requires: string[];
  rules: SieveRule[];
  /** `include` (RFC 6609): other scripts that run as part of this one. */
  includes: SieveInclude[];
}

const CONTROL = new Set(['require', 'if', 'elsif', 'else', 'set', 'global', 'include', 'return', 'break']);
/** Tagged arguments that take the next argument as their value, per action (RFC 5228/5230/5232/3894/6134/8579). */
const VALUE_TAGS: Record<string, Set<string>> = {
  fileinto: new Set(['flags', 'specialuse', 'mailboxid']),
  keep: new Set(['flags']),
  redirect: new Set(['notify', 'ret', 'by', 'bytimerelative', 'bytimeabsolute', 'bymode', 'list']),
  vacation: new Set(['days', 'seconds', 'subject', 'from', 'addresses', 'handle', 'fcc', 'flags', 'specialuse', 'mailboxid']),
  notify: new Set(['from', 'importance', 'options', 'message']),
};
const MAX_SUMMARY_CHARS = 1000;

function strings(a: SieveArgument): string[] {
  return a.type === 'string' ? [a.value] : a.type === 'string-list' ? a.values : [];
}

/** Positional (untagged) string arguments of a command, skipping the values of its tagged arguments. */
function positional(cmd: SieveCommand): { strings: string[][]; tags: Map<string, SieveArgument | undefined> } {
  const valueTags = VALUE_TAGS[cmd.name] ?? new Set<string>();
  const tags = new Map<string, SieveArgument | undefined>();
  const out: string[][] = [];
  for (let i = 0; i < cmd.args.length; i++) {
    const a = cmd.args[i]!;
    if (a.type === 'tag') {
      const takes = valueTags.has(a.name);
      tags.set(a.name, takes ? cmd.args[i + 1] : undefined);
      if (takes) i++;
    } else if (a.type !== 'number') out.push(strings(a));
  }
  return { strings: out, tags };
}

function flagsOf(values: string[]): string[] {
  return values.flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

function toAction(cmd: SieveCommand): SieveAction {
  const { strings: pos, tags } = positional(cmd);
  const last = pos.at(-1)?.[0];
  const action: SieveAction = { name: cmd.name, line: cmd.line };
  switch (cmd.name) {
    case 'redirect':
    case 'fileinto':
      if (last !== undefined) action.target = last;
      if (tags.has('copy')) action.copy = true;
      break;
    case 'vacation':
    case 'reject':
    case 'ereject':
      if (last !== undefined) action.target = last.split(/\r?\n/, 1)[0]!.slice(0, 200);
      break;
  }
  const flagArg = tags.get('flags');
  if (flagArg) action.flags = flagsOf(strings(flagArg));
  // addflag/setflag take [variable name] then the flags: the flags are the last list.
  if (cmd.name === 'addflag' || cmd.name === 'setflag') action.flags = flagsOf(pos.at(-1) ?? []);
  return action;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

function renderArg(a: SieveArgument): string {
  switch (a.type) {
    case 'tag':
      return `:${a.name}`;
    case 'number':
      return String(a.value);
    case 'string':
      return quote(a.value);
    case 'string-list':
      return `[${a.values.slice(0, 20).map(quote).join(', ')}${a.values.length > 20 ? ', …' : ''}]`;
  }
}

/** A test written back as Sieve text, one line, bounded. */
export function renderTest(t: SieveTest): string {
  const text = renderTestInner(t);
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS)}…` : text;
}

function renderTestInner(t: SieveTest): string {
  const parts = [t.name, ...t.args.map(renderArg)];
  if (t.name === 'not' && t.tests.length === 1) return `not ${renderTestInner(t.tests[0]!)}`;
  if (t.tests.length === 1 && t.name !== 'anyof' && t.name !== 'allof') parts.push(renderTestInner(t.tests[0]!));
  else if (t.tests.length > 0) return `${parts.join(' ')}(${t.tests.map(renderTestInner).join(', ')})`;
  return parts.join(' ');
}

/** Conditions joined by "and" (or "always"), bounded: the text of `conditions.summary`. */
export function joinConditions(conditions: string[]): string {
  const s = conditions.length ? conditions.join(' and ') : 'always';
  return s.length > MAX_SUMMARY_CHARS ? `${s.slice(0, MAX_SUMMARY_CHARS)}…` : s;
}

/**
 * The rules of a parsed script: every run of actions in one block (one branch of an if, a loop
 * body, or the top level between ifs), with the conditions under which they run. An elsif or else
 * branch also carries the negation of the branches before it. Actions after `stop` never run.
 */
export function summarizeSieve(commands: SieveCommand[]): SieveSummary {
  const summary: SieveSummary = { requires: [], rules: [], includes: [] };
  const walk = (cmds: SieveCommand[], conditions: string[]): void => {
    let actions: SieveAction[] = [];
    const flush = (): void => {
      if (actions.length) summary.rules.push(buildRule(summary.rules.length + 1, conditions, actions));
      actions = [];
    };
    // Conditions of the if/elsif chain in progress: later branches run only when earlier ones did not.
    let chain: string[] | undefined;
    for (const cmd of cmds) {
      if (cmd.name === 'if' || cmd.name === 'elsif' || cmd.name === 'else') {
        flush();
        if (cmd.name === 'if' || !chain) chain = [];
        const test = cmd.tests[0];
        const own = cmd.name !== 'else' && test ? [renderTest(test)] : [];
        walk(cmd.block ?? [], [...conditions, ...chain.map((c) => `not ${c}`), ...own]);
        if (own[0] !== undefined) chain.push(own[0]);
        if (cmd.name === 'else') chain = undefined;
        continue;
      }
      chain = undefined;
      if (cmd.name === 'require') {
        for (const a of cmd.args) summary.requires.push(...strings(a));
      } else if (cmd.name === 'include') {
        const { strings: pos, tags } = positional(cmd);
        const name = pos.at(-1)?.[0];
        if (name !== undefined) {
          summary.includes.push({ script: name, location: tags.has('global') ? 'global' : 'personal', optional: tags.has('optional'), conditions: [...conditions] });
        }
      } else if (cmd.name === 'return') {
        flush();
        return;
      } else if (cmd.block) {
        // A loop such as foreverypart (RFC 5703): its body runs under the loop.
        flush();
        walk(cmd.block, [...conditions, [cmd.name, ...cmd.args.map(renderArg)].join(' ')]);
      } else if (!CONTROL.has(cmd.name)) {
        actions.push(toAction(cmd));
        if (cmd.name === 'stop') {
          flush();
          return;
        }
      }
    }
    flush();
  };
  walk(commands, []);
  return summary;
}

function buildRule(index: number, conditions: string[], actions: SieveAction[]): SieveRule {
  const has = (name: string) => actions.some((a) => a.name === name);
  const redirects = actions.filter((a) => a.name === 'redirect');
  const fileintos = actions.filter((a) => a.name === 'fileinto');
  // RFC 5228 4: redirect, fileinto, discard and reject cancel the implicit keep; :copy does not.
  const cancels = actions.some((a) => ((a.name === 'redirect' || a.name === 'fileinto') && !a.copy) || ['discard', 'reject', 'ereject'].includes(a.name));
  const seen = actions.some((a) => ['addflag', 'setflag', 'fileinto', 'keep'].includes(a.name) && (a.flags ?? []).some((f) => f.toLowerCase() === '\\seen'));
  const folder = fileintos.find((a) => a.target !== undefined)?.target;
  return {
    index,
    line: actions[0]?.line ?? 0,
    conditions,
    summary: joinConditions(conditions),
    actions,
    redirect_to: [...new Set(redirects.map((a) => a.target).filter((t): t is string => t !== undefined))],
    keep_copy: has('keep') || fileintos.length > 0 || !cancels,
    delete: has('discard'),
    ...(folder !== undefined ? { move_to_folder: folder } : {}),
    mark_as_read: seen,
    stop_processing: has('stop'),
    vacation: has('vacation'),
    reject: has('reject') || has('ereject'),
  };
}
