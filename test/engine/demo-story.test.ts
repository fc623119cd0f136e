import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { fixedClock } from '../../src/clock.js';
import { loadEngine, createMemoryState } from '../../src/engine/index.js';
import { createEnricher } from '../../src/enrich/index.js';
import { parseEvent, type VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';

const root = path.resolve(import.meta.dirname, '../..');
const TAKEOVER_DAY = Date.parse('2025-03-10T00:00:00Z');
const FIVE = ['forwarding.external-inbox-rule', 'login.brute-force', 'login.impossible-travel', 'login.new-country', 'login.password-spray'];
/** Besides the five: the hiding side of the same rule, the chain it completes, and the guess that worked. */
const ALSO = ['forwarding.hiding-rule', 'incident.account-takeover', 'login.success-after-failures'];

function readDemo(): VigieEvent[] {
  const lines = fs.readFileSync(path.join(root, 'config/demo/events.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines.map((line, i) => {
    const r = parseEvent(JSON.parse(line));
    if (!r.ok) throw new Error(`events.jsonl:${i + 1}: ${r.error}`);
    return r.event;
  });
}

/** What `vigie demo` does: replay, enrich, evaluate on fresh state, keep the latest version of each alert. */
function replay(events: readonly VigieEvent[]): Alert[] {
  const engine = loadEngine({ rulesDir: path.join(root, 'rules'), overlays: [], clock: fixedClock('2025-03-11T00:00:00Z'), log: silentLogger });
  const enrich = createEnricher({ domains: ['party.example'] });
  const state = createMemoryState({ serialize: true });
  const alerts = new Map<string, Alert>();
  for (const e of events) for (const a of engine.evaluate(enrich(e), { state, learning: false })) alerts.set(a.id, a);
  return [...alerts.values()];
}

describe('demo dataset (config/demo/events.jsonl)', () => {
  const events = readDemo();

  it('is a week of a dozen people on three providers, then a takeover', () => {
    const accounts = new Set(events.filter((e) => e.kind === 'signin' && e.outcome === 'success').map((e) => e.account));
    expect(accounts.size).toBe(12);
    expect(new Set(events.map((e) => e.provider))).toEqual(new Set(['microsoft-365', 'google-workspace', 'imap']));
    const first = Math.min(...events.map((e) => Date.parse(e.time)));
    expect(TAKEOVER_DAY - first).toBeGreaterThanOrEqual(7 * 86_400_000 - 8 * 3_600_000);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('fires nothing during the ordinary week', () => {
    const week = events.filter((e) => Date.parse(e.time) < TAKEOVER_DAY);
    expect(week.length).toBeGreaterThan(200);
    expect(replay(week).map((a) => `${a.rule}: ${a.summary}`)).toEqual([]);
  });

  it('fires the five rules, the hiding rule and the takeover chain on the takeover, and nothing else', () => {
    const alerts = replay(events);
    expect([...new Set(alerts.map((a) => a.rule))].sort()).toEqual([...FIVE, ...ALSO].sort());
    expect(alerts.find((a) => a.rule === 'incident.account-takeover')).toMatchObject({ severity: 'critical' });
    for (const a of alerts) expect(Date.parse(a.time)).toBeGreaterThanOrEqual(TAKEOVER_DAY);

    const one = (rule: string) => {
      const hits = alerts.filter((a) => a.rule === rule);
      expect(hits, rule).toHaveLength(1);
      return hits[0]!;
    };
    const spray = one('login.password-spray');
    expect(spray.count).toBe(12);
    expect(spray.summary).toContain('198.51.100.23');
    // The opening facts first, then how far it went.
    expect(spray.explanation[0]).toMatch(/^10 distinct account values in 18 min for ip 198\.51\.100\.23 \(threshold: 10 within 30 min\)/);
    expect(spray.explanation[1]).toMatch(/^12 distinct account values in 22 min/);

    const brute = one('login.brute-force');
    expect(brute.account).toBe('alice@party.example');
    expect(brute.explanation[0]).toBe('10 events in 4 min 30 s for account alice@party.example (threshold: 10 within 10 min).');
    expect(brute.explanation[1]).toMatch(/^12 events in 5 min 30 s/);
    expect(brute.count).toBe(12);
    expect(brute.evidence).toHaveLength(10);

    const country = one('login.new-country');
    expect(country.summary).toContain('RU (Moscow)');
    expect(country.explanation[0]).toContain('known: FR');

    const travel = one('login.impossible-travel');
    expect(travel.explanation[0]).toMatch(/^Paris, FR → Moscow, RU: 2,486 km in 40 min = 3,729 km\/h/);
    // Alice signing in again from Paris 34 minutes later is the same incident: same id, three sign-ins.
    expect(travel.count).toBe(3);
    expect(travel.explanation[2]).toMatch(/^Moscow, RU → Paris, FR: 2,486 km in 34 min/);
    expect(travel.evidence.map((e) => e.city)).toEqual(['Paris', 'Moscow', 'Paris']);

    const rule = one('forwarding.external-inbox-rule');
    expect(rule.summary).toBe('alice@party.example has an inbox rule forwarding mail to alice.martin.archive@mailbox.example');
    expect(rule.remediation[0]).toMatch(/^Ask the owner of \S+@party\.example/);
    expect(rule.remediation.some((s) => s.includes('Remove-InboxRule'))).toBe(true);
  });

  it('yields the same alerts on every replay', () => {
    expect(replay(events)).toEqual(replay(events));
  });
});
