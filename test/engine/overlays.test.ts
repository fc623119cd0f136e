import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { checkRules, createMemoryState, loadEngine, formatRulesList, runRuleTests } from '../../src/engine/index.js';
import { formatProblem } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { ev, MATCH_RULE, options, rulesDir, writeTemp } from './helpers.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../../config/rules.local.example.yml');

const threeRules = () =>
  rulesDir({
    'forwarding/a.yml': MATCH_RULE('forwarding.a', 'tags: [noisy, persistence]\n'),
    'forwarding/b.yml': MATCH_RULE('forwarding.b', 'tags: [persistence]\n').replace('status: stable', 'status: test'),
    'forwarding/c.yml': MATCH_RULE('forwarding.c').replace('status: stable', 'status: experimental'),
  });

const enabled = (over: Parameters<typeof options>[0]) =>
  Object.fromEntries(loadEngine(options(over)).rules.map((r) => [r.id, r.enabled ? 'on' : `off: ${r.disabledBy!.replace(/^.*\.yml:/, '')}`]));

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { log, lines };
}

describe('overlays', () => {
  it('experimental rules start off; stable and test ones on', () => {
    expect(enabled({ rulesDir: threeRules() })).toEqual({
      'forwarding.a': 'on',
      'forwarding.b': 'on',
      'forwarding.c': 'off: status experimental (off until an overlay enables it)',
    });
  });

  it('an id wins over a tag or status; later wins among equals; enable wins within a file', () => {
    const first = writeTemp('one.yml', 'disable:\n  - tag: persistence\nenable:\n  - status: experimental\n  - id: forwarding.a\n');
    expect(enabled({ rulesDir: threeRules(), overlays: [first] })).toEqual({
      'forwarding.a': 'on',
      'forwarding.b': 'off: 2: disable tag persistence',
      'forwarding.c': 'on',
    });
    const second = writeTemp('two.yml', 'enable:\n  - category: forwarding\ndisable:\n  - forwarding.c\n');
    expect(enabled({ rulesDir: threeRules(), overlays: [first, second] })).toEqual({
      'forwarding.a': 'on',
      'forwarding.b': 'on',
      'forwarding.c': 'off: 4: disable id forwarding.c',
    });
  });

  it('overrides severity and params, and the rule uses them', () => {
    const o = writeTemp('o.yml', 'overrides:\n  login.brute-force:\n    severity: critical\n    params: { count: 3 }\n');
    const engine = loadEngine(options({ overlays: [o] }));
    expect(engine.rules.find((r) => r.id === 'login.brute-force')!.severity).toBe('critical');
    const state = createMemoryState();
    const alerts = [0, 1, 2].flatMap((i) =>
      engine.evaluate(ev({ outcome: 'failure', time: new Date(Date.parse('2025-01-06T09:00:00Z') + i * 60_000).toISOString() }), { state, learning: false }),
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'login.brute-force', severity: 'critical' });
    expect(alerts[0]!.explanation[0]).toMatch(/threshold: 3 within 10 min/);
    // The inline tests still run against the rule as shipped.
    expect(runRuleTests(options({ overlays: [o] })).every((r) => r.passed)).toBe(true);
  });

  it('points a bad override param at the overlay, not the rule', () => {
    const o = writeTemp('o.yml', 'overrides:\n  login.brute-force:\n    params:\n      count: lots\n      per: ip\n');
    expect(checkRules(options({ overlays: [o] })).map(formatProblem)).toEqual([
      `${o}:4:14: overrides.login.brute-force.params.count: must be a number`,
      `${o}:5:7: overrides.login.brute-force.params.per: unknown key "per"`,
    ]);
  });

  it('rejects unknown rule ids, tags, keys and values, all at once with lines', () => {
    const o = writeTemp(
      'o.yml',
      [
        'disable:',
        '  - login.brute-forse', // 2
        '  - tag: nosuchtag', // 3
        '  - { id: login.new-country, tag: x }', // 4
        'overrides:',
        '  login.nope: { severity: high }', // 6
        '  login.new-country: { severity: severe }', // 7
        'exceptions:',
        '  - rule: login.travel', // 9
        '    when: { colour: red }', // 10
        '    until: next week', // 11
        '  - when: { account: a@b.example }', // 12
        'surprise: 1', // 13
      ].join('\n'),
    );
    const ps = checkRules(options({ overlays: [o] })).map((p) => `${p.line}: ${p.path}: ${p.message}`);
    expect(ps).toEqual([
      '2: disable[0].id: unknown rule id "login.brute-forse" (did you mean "login.brute-force"? `vigie rules list` shows them all)',
      '3: disable[1].tag: no rule has the tag "nosuchtag"',
      '4: disable[2]: give exactly one of id, tag, category or status',
      expect.stringMatching(/^6: overrides\.login\.nope: unknown rule id "login\.nope"/),
      expect.stringMatching(/^7: overrides\.login\.new-country\.severity: must be one of/),
      expect.stringMatching(/^9: exceptions\[0\]\.rule: unknown rule id "login\.travel"/),
      expect.stringMatching(/^10: exceptions\[0\]\.when\.colour: "colour" is not an event field/),
      '11: exceptions[0].until: must be a date (2025-11-30) or an ISO time (2025-11-30T18:00:00Z)',
      '12: exceptions[1]: say which rules the exception is for: rule, tag or category',
      '13: surprise: unknown key "surprise" (known: enable, disable, overrides, lists, exceptions)',
    ]);
  });

  it('appends to lists, which conditions then use', () => {
    const travel = (ip: string, city: string, lat: number, lon: number, min: number) =>
      ev({ outcome: 'success', ip, geo: { city, country: city === 'Paris' ? 'FR' : 'US', lat, lon }, time: new Date(Date.parse('2025-01-06T09:00:00Z') + min * 60_000).toISOString() });
    const run = (overlays: string[], lists?: Record<string, string[]>) => {
      const engine = loadEngine(options({ overlays, ...(lists ? { lists } : {}) }));
      const state = createMemoryState();
      return [travel('192.0.2.1', 'Paris', 48.85, 2.35, 0), travel('198.51.100.250', 'Ashburn', 39.04, -77.49, 30)].flatMap((e) =>
        engine.evaluate(e, { state, learning: false }),
      );
    };
    expect(run([])).toHaveLength(1);
    expect(run([writeTemp('o.yml', 'lists:\n  trusted-networks: [198.51.100.248/29]\n')])).toHaveLength(0);
    expect(run([], { 'trusted-networks': ['198.51.100.250'] })).toHaveLength(0);
  });

  it('applies exceptions until their end date (event time), and logs the expired ones', () => {
    const o = writeTemp(
      'o.yml',
      [
        'exceptions:',
        '  - rule: login.new-country',
        '    when: { geo.country: [US, CA] }',
        '    until: 2025-01-20',
        '    note: Congress in Montreal',
        '  - category: unusual_login',
        '    when: { account: old@party.example }',
        '    until: 2024-12-31',
      ].join('\n'),
    );
    const { log, lines } = captureLog();
    const engine = loadEngine(options({ overlays: [o], log, clock: fixedClock('2025-01-05T00:00:00Z') }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', until: '2024-12-31', msg: `The exception at ${o}:6 expired on 2024-12-31; it only applies to events before then.` });

    const state = createMemoryState();
    const signin = (day: number, country: string) =>
      engine.evaluate(ev({ outcome: 'success', geo: { country }, time: `2025-01-${String(day).padStart(2, '0')}T09:00:00.000Z` }), { state, learning: false });
    signin(1, 'FR');
    expect(signin(9, 'CA')).toEqual([]); // excepted: the trip
    expect(signin(20, 'US')).toEqual([]); // 20 January is the last day of the exception
    expect(signin(21, 'CA').map((a) => a.rule)).toEqual(['login.new-country']);
  });

  it('the shipped example overlay validates, and shows in rules list', () => {
    expect(checkRules(options({ overlays: [EXAMPLE] }))).toEqual([]);
    const list = formatRulesList(loadEngine(options({ overlays: [EXAMPLE] })));
    expect(list).toMatch(/login\.brute-force +unusual_login +medium +stable +threshold +no: .*rules\.local\.example\.yml:\d+: disable id login\.brute-force/);
    expect(list).toMatch(/login\.password-spray +unusual_login +critical/);
    const total = loadEngine(options()).rules.length;
    expect(list).toMatch(new RegExp(`${total} rules, ${total - 1} enabled\\.`));
  });

  it('a broken copy of the example is rejected with lines', () => {
    const broken = fs
      .readFileSync(EXAMPLE, 'utf8')
      .replace('id: login.brute-force', 'id: login.brute-farce')
      .replace('until: 2026-12-15', 'until: 15/12/2026');
    const ps = checkRules(options({ overlays: [writeTemp('rules.local.yml', broken)] }));
    expect(ps.map((p) => p.path)).toEqual(['disable[0].id', 'exceptions[0].until']);
    expect(ps.every((p) => p.line !== undefined)).toBe(true);
  });

  it('an empty overlay changes nothing; a missing one is a problem', () => {
    expect(checkRules(options({ overlays: [writeTemp('empty.yml', '')] }))).toEqual([]);
    expect(checkRules(options({ overlays: ['/nonexistent/overlay.yml'] }))[0]!.message).toMatch(/cannot read the file \(ENOENT\)/);
  });
});
