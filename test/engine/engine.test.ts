import { describe, expect, it } from 'vitest';
import { alertId, type Alert } from '../../src/alerts/alert.js';
import { createMemoryState, loadEngine, runRuleTests, type DetectorStateIO } from '../../src/engine/index.js';
import { createEngine } from '../../src/engine/engine.js';
import { loadRules } from '../../src/engine/load.js';
import { createLogger } from '../../src/log.js';
import type { VigieEvent } from '../../src/events.js';
import { ev, MATCH_RULE, options, rulesDir, writeTemp } from './helpers.js';

const H = 3_600_000;
const T0 = Date.parse('2025-01-06T09:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const forward = (ms: number, over: Partial<VigieEvent> = {}) =>
  ev({ kind: 'mailbox_rule', time: iso(ms), details: { change: 'created', mechanism: 'exchange_inbox_rule', external_targets: ['x@out.example'], conditions: { from: ['a@b.example'] } }, ...over });

function collect(engine: ReturnType<typeof loadEngine>, events: VigieEvent[], state: DetectorStateIO = createMemoryState({ serialize: true }), learning = false) {
  const all: Alert[] = [];
  for (const e of events) all.push(...engine.evaluate(e, { state, learning }));
  return all;
}

describe('engine', () => {
  const shipped = loadEngine(options());

  it('keeps one alert id per (rule, group) within the dedupe window, then opens a new one', () => {
    const alerts = collect(shipped, [forward(0), forward(2 * H), forward(23 * H), forward(25 * H)]);
    expect(alerts.map((a) => a.rule)).toEqual(Array(4).fill('forwarding.external-inbox-rule'));
    const [a, b, c, d] = alerts;
    expect(a!.id).toBe(alertId('forwarding.external-inbox-rule', 'alice@party.example', iso(0)));
    expect(b!.id).toBe(a!.id);
    expect(c!.id).toBe(a!.id);
    expect(c).toMatchObject({ count: 3, time: iso(0), last_time: iso(23 * H) });
    expect(c!.evidence).toHaveLength(3);
    expect(d!.id).toBe(alertId('forwarding.external-inbox-rule', 'alice@party.example', iso(25 * H)));
    expect(d!.count).toBe(1);
  });

  it('groups per account by default: two mailboxes, two alerts', () => {
    const alerts = collect(shipped, [forward(0), forward(1000, { account: 'bob@party.example' })]);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(2);
    expect(alerts.map((a) => a.account)).toEqual(['alice@party.example', 'bob@party.example']);
  });

  it('bounds the evidence of a long incident', () => {
    const alerts = collect(shipped, Array.from({ length: 30 }, (_, i) => forward(i * 60_000)));
    expect(alerts.at(-1)!.evidence).toHaveLength(10);
    expect(alerts.at(-1)!.count).toBe(30);
  });

  it('learning updates state but returns no alerts', () => {
    const state = createMemoryState({ serialize: true });
    const signin = (day: number, country: string) => ev({ outcome: 'success', time: iso(day * 24 * H), geo: { country } });
    expect(collect(shipped, [signin(0, 'FR'), signin(8, 'RU')], state, true)).toEqual([]);
    // RU was learned during the backfill: not new any more. NL is.
    expect(collect(shipped, [signin(9, 'RU')], state)).toEqual([]);
    expect(collect(shipped, [signin(10, 'NL')], state).map((a) => a.rule)).toEqual(['login.new-country']);
  });

  it('gives the steps for the event provider, or all of them labelled when the provider is not one the rule knows', () => {
    const hiding = (over: Partial<VigieEvent>) =>
      collect(shipped, [forward(0, { details: { change: 'created', mechanism: 'sieve', delete: true, name: 'x' }, ...over })]).find((a) => a.rule === 'forwarding.hiding-rule');
    const m365 = hiding({});
    expect(m365!.remediation.some((s) => s.includes('Remove-InboxRule'))).toBe(true);
    expect(m365!.remediation.some((s) => s.includes('doveadm'))).toBe(false);
    const imap = hiding({ provider: 'imap' });
    expect(imap!.remediation.some((s) => s.includes('doveadm kick'))).toBe(true);
    const vigie = hiding({ provider: 'vigie' });
    expect(vigie!.remediation[0]).toMatch(/^microsoft-365: /);
    expect(vigie!.remediation.some((s) => s.startsWith('imap: '))).toBe(true);
  });

  it('leaves account out of alerts not about one account', () => {
    const spray = collect(
      shipped,
      Array.from({ length: 10 }, (_, i) => ev({ outcome: 'failure', ip: '198.51.100.23', account: `u${i}@party.example`, time: iso(i * 1000) })),
    );
    expect(spray).toHaveLength(1);
    expect(spray[0]!.account).toBeUndefined();
    expect(spray[0]!.provider).toBe('microsoft-365');
  });

  it('stores bounded, JSON state with an expiry for the store to prune', () => {
    const writes: { rule: string; group: string; value: unknown; expiresAt: number | null }[] = [];
    const mem = createMemoryState();
    const state: DetectorStateIO = {
      get: (r, g) => mem.get(r, g),
      set: (rule, group, value, expiresAt) => {
        writes.push({ rule, group, value, expiresAt });
        mem.set(rule, group, value, expiresAt);
      },
    };
    collect(shipped, [ev({ outcome: 'failure', ip: '198.51.100.23', time: iso(0) }), forward(H)], state);
    expect(writes.map((w) => [w.rule, w.group, w.expiresAt])).toEqual(expect.arrayContaining([
      ['login.brute-force', 'alice@party.example', T0 + 10 * 60_000],
      ['login.password-spray', '198.51.100.23', T0 + 30 * 60_000],
      ['forwarding.external-inbox-rule', 'alice@party.example', T0 + H + 24 * H],
      // The chain rules remember the persistence step for their window.
      ['incident.account-takeover', 'alice@party.example', T0 + H + 24 * H],
      ['incident.exfiltration', 'alice@party.example', T0 + H + 72 * H],
    ]));
    for (const w of writes) expect(JSON.parse(JSON.stringify(w.value))).toEqual(w.value);
    expect(mem.prune(T0 + 20 * 60_000)).toBe(1);
    expect(mem.size).toBe(writes.length - 1);
  });

  it('drops state written in another shape instead of misreading it', () => {
    const state: DetectorStateIO = { get: () => ({ d: { t: 'garbage' }, i: 42 }), set: () => {} };
    const alerts = collect(shipped, Array.from({ length: 10 }, (_, i) => ev({ outcome: 'failure', time: iso(i * 1000) })), state);
    expect(alerts).toEqual([]);
  });

  it('only offers a rule the event kinds it pins', () => {
    const reads: string[] = [];
    const state: DetectorStateIO = { get: (r) => void reads.push(r), set: () => {} };
    collect(shipped, [ev({ kind: 'app_consent' })], state);
    expect(reads).toEqual([]);
  });

  it('skips a rule for an event whose group_by field is missing', () => {
    // Ten accounts failing without an address: the spray rule, grouped by ip, cannot see them.
    const alerts = collect(shipped, Array.from({ length: 10 }, (_, i) => ev({ outcome: 'failure', account: `u${i}@x.example`, time: iso(i) })));
    expect(alerts).toEqual([]);
  });

  it('a rule that throws is logged and skipped; the others still run', () => {
    const lines: { msg: string; rule?: string }[] = [];
    const log = createLogger({ level: 'error', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
    const { rules } = loadRules(options({ rulesDir: rulesDir({ 'forwarding/a.yml': MATCH_RULE('forwarding.a'), 'forwarding/b.yml': MATCH_RULE('forwarding.b') }) }));
    const broken = { ...rules[0]!, detector: { ...rules[0]!.detector, step: () => { throw new Error('boom'); } } };
    const engine = createEngine([broken, rules[1]!], log);
    const alerts = engine.evaluate(ev({ kind: 'mailbox_rule' }), { state: createMemoryState(), learning: false });
    expect(alerts.map((a) => a.rule)).toEqual(['forwarding.b']);
    expect(lines).toMatchObject([{ rule: 'forwarding.a', msg: 'Rule forwarding.a failed on an event and was skipped for it.' }]);
  });

  it('lists every rule, enabled or not, in id order', () => {
    const rows = shipped.rules.map((r) => [r.id, r.enabled, r.detector]);
    expect(rows.map((r) => r[0])).toEqual(rows.map((r) => r[0]).sort());
    expect(rows).toEqual(
      expect.arrayContaining([
        ['forwarding.external-inbox-rule', true, 'match'],
        ['login.brute-force', true, 'threshold'],
        ['login.impossible-travel', true, 'velocity'],
        ['login.new-country', true, 'new_value'],
        ['login.password-spray', true, 'threshold'],
      ]),
    );
  });
});

describe('inline rule tests', () => {
  it('reports a failing test and a rule without a negative test', () => {
    const dir = rulesDir({
      'forwarding/a.yml': MATCH_RULE(
        'forwarding.a',
        'tests:\n  - name: wrong\n    events: [{ kind: signin }]\n    expect: alert\n  - name: right\n    events: [{ kind: mailbox_rule }]\n    expect: { count: 1, summary_contains: did something }\n',
      ),
    });
    expect(runRuleTests(options({ rulesDir: dir }))).toEqual([
      { rule: 'forwarding.a', test: '(coverage)', passed: false, message: 'every rule needs at least one test that expects an alert and one that expects none' },
      { rule: 'forwarding.a', test: 'wrong', passed: false, message: 'expected an alert, got none' },
      { rule: 'forwarding.a', test: 'right', passed: true },
    ]);
  });

  it('throws on invalid rules rather than running half of them', () => {
    expect(() => runRuleTests(options({ rulesDir: rulesDir({ 'forwarding/a.yml': 'id: x' }) }))).toThrow(/problem/);
  });
});

describe('a sequence rule written in YAML', () => {
  const yaml = `id: incident.signin-then-forwarding
title: Sign-in from abroad, then a forwarding rule
category: incident
severity: critical
status: experimental
tags: [chain]
description: A chain rule for tests.
detector: sequence
when:
  kind: [signin, mailbox_rule]
params:
  first: { kind: signin, outcome: success, geo.country: { not: FR } }
  then: { kind: mailbox_rule, details.external_targets: { not_empty: true } }
  within: 1h
group_by: [person]
dedupe: 6h
summary: "{person}: sign-in from abroad, then mail forwarded outside {finding.gap} later"
tests:
  - name: chain
    events:
      - { outcome: success, geo: { country: RU } }
      - { kind: mailbox_rule, details: { change: created, forward_to: [x@out.example] } }
    expect: { count: 1, summary_contains: "6 min" }
  - name: chain within the window
    events:
      - { outcome: success, geo: { country: RU }, time: +0m }
      - { kind: mailbox_rule, details: { change: created, forward_to: [x@out.example] }, time: +6m }
    expect: { count: 1, summary_contains: "alice@party.example: sign-in from abroad, then mail forwarded outside 6 min later" }
  - name: internal forwarding breaks the chain
    events:
      - { outcome: success, geo: { country: RU } }
      - { kind: mailbox_rule, details: { change: created, forward_to: [bob@party.example] } }
    expect: no_alert
`;

  it('compiles its steps and passes its inline tests; experimental, so off until enabled', () => {
    const dir = rulesDir({ 'incident/signin-then-forwarding.yml': yaml });
    const results = runRuleTests(options({ rulesDir: dir }));
    expect(results.filter((r) => !r.passed).map((r) => `${r.test}: ${r.message}`)).toEqual(['chain: no alert summary contains "6 min"; got: "alice@party.example: sign-in from abroad, then mail forwarded outside 1 min later"']);
    expect(loadEngine(options({ rulesDir: dir })).rules[0]).toMatchObject({ enabled: false, status: 'experimental' });
  });
});

describe('engine: alert-input rules (chains, onboarding audit), escalation, params in conditions, remediation templates', () => {
  const shipped = loadEngine(options());

  it('folds findings on present state into one onboarding alert and returns no per-rule alert', () => {
    const present = (id: string, details: Record<string, unknown>) => ev({ kind: 'mailbox_rule', time: iso(0), details: { change: 'present', mechanism: 'exchange_inbox_rule', rule_id: id, ...details } });
    const alerts = collect(shipped, [present('a', { external_targets: ['x@out.example'] }), present('b', { delete: true, name: 'x' })]);
    expect([...new Set(alerts.map((a) => a.rule))]).toEqual(['forwarding.onboarding-audit']);
    expect(alerts.at(-1)!.count).toBe(2);
  });

  it('runs chain rules after the others and feeds them the alerts just raised', () => {
    const alerts = collect(shipped, [
      ev({ outcome: 'success', time: iso(0), geo: { country: 'FR' } }),
      ev({ outcome: 'success', time: iso(8 * 24 * H), ip: '203.0.113.66', geo: { country: 'RU' } }),
      forward(8 * 24 * H + H),
    ]);
    const incident = alerts.find((a) => a.rule === 'incident.account-takeover')!;
    expect(incident.severity).toBe('critical');
    expect(incident.explanation.some((l) => l.startsWith('Step 1') && l.includes('login.new-country'))).toBe(true);
  });

  it('raises severity with escalate and says why', () => {
    const [a] = collect(shipped, [forward(0, { details: { change: 'created', mechanism: 'exchange_inbox_rule', external_targets: ['x@out.example'], delete: true } })]);
    expect(a!.severity).toBe('critical');
    expect(a!.explanation.at(-1)).toMatch(/^Severity critical: the rule also deletes/);
  });

  it('takes thresholds named in conditions from params, and an overlay can tune them', () => {
    const bulk = (items: number) => ev({ kind: 'data_export', time: iso(0), details: { method: 'bulk_access', items, throttled: false } });
    expect(collect(shipped, [bulk(300)])).toEqual([]);
    const tuned = loadEngine(options({ overlays: [writeTemp('o.yml', 'overrides:\n  export.bulk-access:\n    params: { min_items: 200 }\n')] }));
    expect(collect(tuned, [bulk(300)]).map((a) => a.rule)).toEqual(['export.bulk-access']);
  });

  it('reports an unknown $params reference at load', () => {
    const dir = rulesDir({ 'forwarding/a.yml': MATCH_RULE('forwarding.a').replace('kind: mailbox_rule', 'kind: mailbox_rule\n  details.items: { gte: "$params.nope" }') });
    expect(loadRules(options({ rulesDir: dir })).problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/unknown param "nope"/));
  });

  it('fills remediation with the alert values as plain text, never evaluated', () => {
    const [a] = collect(shipped, [forward(0, { details: { change: 'created', mechanism: 'exchange_inbox_rule', name: '{account}\n<b>', external_targets: ['x@out.example'], conditions: { from: ['a'] } } })]);
    expect(a!.remediation.join('\n')).toContain("Remove-InboxRule -Mailbox 'alice@party.example' -Identity '{account} <b>'");
  });
});
