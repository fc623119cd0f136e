import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { checkRules, loadEngine } from '../../src/engine/index.js';
import { MATCH_RULE, options, rulesDir } from './helpers.js';

const problemsOf = (files: Record<string, string>) => checkRules(options({ rulesDir: rulesDir(files) }));

describe('loading rule files', () => {
  it('loads the shipped rules without a problem', () => {
    expect(checkRules(options())).toEqual([]);
    const engine = loadEngine(options());
    const ids = engine.rules.map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(
      expect.arrayContaining(['forwarding.external-inbox-rule', 'login.brute-force', 'login.impossible-travel', 'login.new-country', 'login.password-spray']),
    );
  });

  it('checks that id is the folder and file name', () => {
    const [p] = problemsOf({ 'forwarding/a.yml': MATCH_RULE('forwarding.b') });
    expect(formatProblem(p!)).toMatch(/forwarding\/a\.yml:1:5: id: must be "forwarding\.a" \(the folder and file name\)$/);
  });

  it('rejects unknown groups, file names and extensions', () => {
    const ps = problemsOf({
      'stuff/a.yml': MATCH_RULE('stuff.a'),
      'login/Bad_Name.yml': MATCH_RULE('login.Bad_Name'),
      'login/a.yaml': MATCH_RULE('login.a'),
      'loose.yml': MATCH_RULE('loose'),
    });
    expect(ps.map((p) => p.message).sort()).toEqual([
      '"Bad_Name" is not a valid rule name (kebab-case: a-z, 0-9 and -)',
      'rule files live in a group folder: rules/<group>/<name>.yml',
      'rule files must end in .yml',
      expect.stringMatching(/^unknown rule group "stuff"/),
    ]);
  });

  it('reports every schema problem at once, each with line, column and key path', () => {
    const text = [
      'id: forwarding.a', //                      1
      'title: T',
      'category: forwarding-ish', //             3
      'severity: urgent', //                     4
      'status: stable',
      'description: d',
      'detector: match',
      'when: { kind: mailbox_rule }',
      'summary: "{account}"',
      'colour: red', //                          10
      'remediation:',
      '  exchange: [x]', //                      12
      'dedupe: soon', //                         13
    ].join('\n');
    const ps = problemsOf({ 'forwarding/a.yml': text });
    expect(ps.map(formatProblem).map((s) => s.replace(/^.*forwarding\/a\.yml:/, ''))).toEqual([
      expect.stringMatching(/^3:11: category: must be one of "unusual_login", /),
      expect.stringMatching(/^4:11: severity: must be one of "informational", /),
      '10:1: colour: unknown key "colour"',
      '12:3: remediation.exchange: unknown key "exchange"',
      '13:9: dedupe: must be a duration such as 90s, 10m, 24h or 7d',
    ]);
  });

  it('reports conditions, params and templates problems at their lines', () => {
    const text = `id: login.a
title: T
category: unusual_login
severity: low
status: stable
description: d
detector: threshold
when:
  kind: signin
  outcome: { equals: [failure] }
  ip: { in_list: office }
params:
  count: many
  within: 10m
  per: account
summary: "{finding.speed} {acount}"
`;
    const ps = problemsOf({ 'login/a.yml': text });
    expect(ps.map((p) => `${p.line}:${p.path}: ${p.message}`)).toEqual([
      '10:when.outcome.equals: equals takes a string, number or boolean',
      expect.stringMatching(/^11:when\.ip\.in_list: unknown list "office"/),
      '13:params.count: must be a number',
      '15:params.per: unknown key "per"',
      expect.stringMatching(/^16:summary: unknown placeholder \{finding\.speed\}/),
      expect.stringMatching(/^16:summary: placeholder \{acount\}: "acount" is not an event field/),
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const ps = problemsOf({ 'login/a.yml': 'id: login.a\ntitle: [unclosed\n' });
    expect(ps[0]!.line).toBeGreaterThan(1);
    expect(ps[0]!.message).not.toContain('\n');
    const dup = problemsOf({ 'login/a.yml': 'id: login.a\nid: login.a\n' });
    expect(dup[0]).toMatchObject({ line: 2, column: 1, message: 'Map keys must be unique' });
  });

  it('validates inline test events', () => {
    const text = MATCH_RULE('forwarding.a', 'tests:\n  - name: x\n    events:\n      - { kind: mailbox_rule }\n      - { kind: nonsense }\n    expect: alert\n');
    const ps = problemsOf({ 'forwarding/a.yml': text });
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ line: 15, path: 'tests[0].events[1]' });
    expect(ps[0]!.message).toMatch(/^kind:/);
  });

  it('loadEngine throws a ConfigError listing them all', () => {
    const dir = rulesDir({ 'forwarding/a.yml': MATCH_RULE('forwarding.b'), 'login/b.yml': 'id: [' });
    try {
      loadEngine(options({ rulesDir: dir }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('RULES_INVALID');
      expect((err as ConfigError).problems.length).toBeGreaterThanOrEqual(2);
      expect((err as Error).message).toMatch(/problems found/);
    }
  });

  it('reads lists and rejects bad list files', () => {
    const ok = problemsOf({
      'lists/office.yml': 'description: d\nitems: [192.0.2.0/24]\n',
      'forwarding/a.yml': MATCH_RULE('forwarding.a').replace('kind: mailbox_rule', 'kind: mailbox_rule\n  ip: { in_list: office }'),
    });
    expect(ok).toEqual([]);
    const bad = problemsOf({ 'lists/Office.yml': 'items: []\n', 'lists/x.yml': 'items: {}\n', 'lists/y.txt': '' });
    expect(bad.map((p) => p.message).sort()).toEqual([
      '"Office" is not a valid list name (lower-case letters, digits and -)',
      'is required',
      'list files must end in .yml',
      'must be a list',
    ]);
  });

  it('a match rule without conditions is a mistake', () => {
    const ps = problemsOf({ 'forwarding/a.yml': MATCH_RULE('forwarding.a').replace('when:\n  kind: mailbox_rule', 'when: {}') });
    expect(ps.map((p) => p.message)).toEqual(['a match rule needs at least one condition']);
  });
});

describe('hostile or broken input', () => {
  it('never throws: any YAML in a rule file or an overlay comes back as problems', async () => {
    const fc = (await import('fast-check')).default;
    const { stringify } = await import('yaml');
    const { writeTemp } = await import('./helpers.js');
    const base = { id: 'login.a', title: 'T', category: 'unusual_login', severity: 'low', status: 'stable', description: 'd', detector: 'threshold', summary: 's' };
    const value = fc.oneof(fc.jsonValue(), fc.constantFrom('10m', 'account', 'signin', '{account}', 'x.y', '(', ''));
    const partial = fc.record(
      {
        when: fc.dictionary(fc.constantFrom('kind', 'ip', 'details.a', 'geo', 'colour'), value),
        params: fc.dictionary(fc.constantFrom('count', 'within', 'distinct', 'field', 'first', 'then', 'min_km'), value),
        detector: fc.constantFrom('match', 'threshold', 'new_value', 'velocity', 'sequence', 'nope'),
        group_by: value,
        summary: value,
        tests: value,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(partial, fc.jsonValue(), (rule, overlay) => {
        const dir = rulesDir({ 'login/a.yml': stringify({ ...base, ...rule }) });
        const problems = checkRules(options({ rulesDir: dir, overlays: [writeTemp('o.yml', stringify(overlay))] }));
        expect(Array.isArray(problems)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
