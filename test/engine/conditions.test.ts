import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWhen, type ConditionEnv } from '../../src/engine/conditions.js';
import { compileList } from '../../src/engine/lists.js';
import type { VigieEvent } from '../../src/events.js';
import { ev } from './helpers.js';

function compile(when: unknown, lists: Record<string, string[]> = {}) {
  const problems: { path: string; message: string }[] = [];
  const env: ConditionEnv = {
    lists: new Map(Object.entries(lists).map(([name, items]) => [name, compileList({ name, items, origins: [] })])),
    problem: (path, message) => problems.push({ path: path.join('.'), message }),
  };
  const c = compileWhen(when, [], env);
  return { test: (e: VigieEvent) => c.test(e), kinds: c.kinds, problems };
}

const rule = (details: Record<string, unknown>, over: Partial<VigieEvent> = {}) => ev({ kind: 'mailbox_rule', details, ...over });

describe('conditions', () => {
  it('ANDs keys and treats a list as any of', () => {
    const c = compile({ kind: 'mailbox_rule', 'details.change': ['created', 'updated'] });
    expect(c.problems).toEqual([]);
    expect(c.test(rule({ change: 'created' }))).toBe(true);
    expect(c.test(rule({ change: 'removed' }))).toBe(false);
    expect(c.test(ev({ details: { change: 'created' } }))).toBe(false);
    expect(c.kinds).toEqual(new Set(['mailbox_rule']));
  });

  it('compares strings case-insensitively and numbers numerically', () => {
    const c = compile({ 'geo.country': 'ru', 'details.items': 5 });
    expect(c.test(ev({ geo: { country: 'RU' }, details: { items: '5' } }))).toBe(true);
    expect(c.test(ev({ geo: { country: 'RU' }, details: { items: 6 } }))).toBe(false);
  });

  it('matches a list-valued field when any element matches', () => {
    const c = compile({ 'details.forward_to': { ends_with: '@gmail.example' } });
    expect(c.test(rule({ forward_to: ['a@party.example', 'b@GMAIL.example'] }))).toBe(true);
    expect(c.test(rule({ forward_to: ['a@party.example'] }))).toBe(false);
  });

  it('all: every element, and at least one', () => {
    const c = compile({ 'details.external_targets': { all: { ends_with: '@auditors.example' } } });
    expect(c.test(rule({ external_targets: ['a@auditors.example', 'b@auditors.example'] }))).toBe(true);
    expect(c.test(rule({ external_targets: ['a@auditors.example', 'x@evil.example'] }))).toBe(false);
    expect(c.test(rule({ external_targets: [] }))).toBe(false);
  });

  it('not, exists, not_empty look at the whole field', () => {
    const c = compile({ 'details.enabled': { not: false }, 'details.external_targets': { not_empty: true }, ip: { exists: false } });
    expect(c.test(rule({ external_targets: ['x@y.example'] }))).toBe(true);
    expect(c.test(rule({ enabled: false, external_targets: ['x@y.example'] }))).toBe(false);
    expect(c.test(rule({ external_targets: [] }))).toBe(false);
    expect(c.test(rule({ external_targets: ['x@y.example'] }, { ip: '192.0.2.1' }))).toBe(false);
  });

  it('string operators, regexes and numeric comparisons', () => {
    const c = compile({
      'details.name': { contains: 'invoice', starts_with: ['re', 'fw'] },
      'details.user_agent': { matches: '^python-requests/\\d' },
      'details.items': { gte: 100, lt: 1000 },
    });
    const base = { name: 'RE: Invoice 42', user_agent: 'Python-Requests/2.31', items: 100 };
    expect(c.test(ev({ details: base }))).toBe(true);
    expect(c.test(ev({ details: { ...base, items: 1000 } }))).toBe(false);
    expect(c.test(ev({ details: { ...base, name: 'Invoice' } }))).toBe(false);
    expect(c.test(ev({ details: { ...base, user_agent: 'curl/8' } }))).toBe(false);
  });

  it('cidr and in_list match addresses, IPv4 and IPv6', () => {
    const c = compile({ ip: { cidr: ['192.0.2.0/24', '2001:db8::/32'] } });
    expect(c.test(ev({ ip: '192.0.2.200' }))).toBe(true);
    expect(c.test(ev({ ip: '::ffff:192.0.2.7' }))).toBe(true);
    expect(c.test(ev({ ip: '2001:db8:1::5' }))).toBe(true);
    expect(c.test(ev({ ip: '198.51.100.1' }))).toBe(false);
    expect(c.test(ev({ ip: 'not-an-ip' }))).toBe(false);
    const l = compile({ ip: { not: { in_list: 'office' } }, account: { in_list: 'bots' } }, { office: ['203.0.113.0/28'], bots: ['Press-Bot@party.example'] });
    expect(l.test(ev({ ip: '203.0.113.20', account: 'press-bot@party.example' }))).toBe(true);
    expect(l.test(ev({ ip: '203.0.113.2', account: 'press-bot@party.example' }))).toBe(false);
    expect(l.test(ev({ account: 'alice@party.example' }))).toBe(false);
  });

  it('person falls back to account', () => {
    const c = compile({ person: 'alice@party.example' });
    expect(c.test(ev())).toBe(true);
    expect(c.test(ev({ person: 'alice' }))).toBe(false);
  });

  it('reports every mistake with its key path', () => {
    const c = compile(
      {
        kind: 'signin',
        'geo..country': 'FR',
        colour: 'red',
        'details.name': { matches: '(' },
        'details.x': { near: 3 },
        'details.y': [],
        'details.z': { in_list: 'nope' },
        ip: { cidr: '300.1.1.1/8' },
        'details.n': { gt: 'ten' },
      },
      {},
    );
    expect(c.problems.map((p) => p.path)).toEqual([
      'geo..country',
      'colour',
      'details.name.matches',
      'details.x.near',
      'details.y',
      'details.z.in_list',
      'ip.cidr',
      'details.n.gt',
    ]);
    expect(c.problems[1]!.message).toMatch(/"colour" is not an event field/);
    expect(c.problems[2]!.message).toMatch(/invalid regular expression/);
    expect(c.problems[5]!.message).toMatch(/unknown list "nope"/);
  });

  it('{} matches everything; a non-mapping is a problem', () => {
    expect(compile({}).test(ev())).toBe(true);
    expect(compile(['kind']).problems).toHaveLength(1);
  });

  it('never throws, whatever the event holds', () => {
    const c = compile({
      'details.a': { contains: 'x' },
      'details.b': { matches: 'y+' },
      'details.c': { gt: 1 },
      ip: { cidr: '10.0.0.0/8' },
      'details.d': { not_empty: true },
      'details.e': { all: 'z' },
    });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.anything()), fc.anything(), (details, ip) => {
        const r = c.test(ev({ details, ip: ip as string }));
        expect(typeof r).toBe('boolean');
      }),
    );
  });
});

describe('closed fields', () => {
  it('rejects a kind, provider or outcome that does not exist', () => {
    const c = compile({ kind: ['signin', 'sign_in'], provider: 'gmail', outcome: 'failed' });
    expect(c.problems.map((p) => p.path)).toEqual(['kind.1', 'provider', 'outcome']);
    expect(c.problems[0]!.message).toMatch(/^"sign_in" is not a kind \(known: signin, /);
  });
});
