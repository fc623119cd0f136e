import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../src/clock.js';
import { loadEngine } from '../../../src/engine/index.js';
import type { Engine } from '../../../src/engine/types.js';
import { createEnricher } from '../../../src/enrich/index.js';
import type { VigieEvent } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import { createProcessor } from '../../../src/pipeline/process.js';
import { Runner } from '../../../src/pipeline/runner.js';
import { Store } from '../../../src/store/store.js';
import { startFakeMicrosoft365, type FakeMicrosoft365 } from '../../fakes/microsoft-365/server.js';
import { connectorFor, ROOT } from './setup.js';

const HOUR = 3_600_000;
const ATTACK = Date.parse('2025-03-11T09:00:00Z');

let fake: FakeMicrosoft365 | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/**
 * The fake tenant's week and takeover, pulled through the real runner, processor, enrichment and
 * shipped rules, in three polls: before the attack (the backfill only trains baselines), three
 * hours after it (some audit blobs are still hours late) and twelve hours after it.
 */
async function runStory(licence: 'basic' | 'premium') {
  const clock = fixedClock(ATTACK - HOUR);
  fake = await startFakeMicrosoft365({ now: () => clock.now(), knobs: { licence, throttleRate: 0.05 } });
  const { connector, sleeps } = connectorFor(fake, clock);
  const store = Store.open({ path: ':memory:', clock });
  const rules = loadEngine({ rulesDir: path.join(ROOT, 'rules'), overlays: [], clock, log: silentLogger });
  const seen: VigieEvent[] = [];
  const engine: Engine = { rules: rules.rules, evaluate: (e, ctx) => (seen.push(e), rules.evaluate(e, ctx)) };
  const processor = createProcessor({ store, engine, enrich: createEnricher({ domains: ['party.example'] }), routes: [], receivers: [], clock, log: silentLogger, seenTtlMs: 30 * 86_400_000 });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  const polls: number[] = [];
  for (const at of [ATTACK - HOUR, ATTACK + 3 * HOUR, ATTACK + 12 * HOUR]) {
    clock.set(at);
    for (const s of connector.streams) {
      const r = await runner.runStream(connector, s, { backfillMs: 8 * 86_400_000, overlapMs: 0, learnFromBackfill: s.kind === 'log' }, new AbortController().signal);
      polls.push(r.newAlerts);
    }
  }
  await connector.close?.();
  const alerts = store.alertsAfter(0);
  store.close();
  return { alerts, seen, sleeps, polls, rules: [...new Set(alerts.map((a) => a.rule))].sort() };
}

describe('microsoft-365 takeover story through the real pipeline', () => {
  it('Business Basic: the free audit path alone raises the takeover alerts, and the Graph P1 streams say once what they need', async () => {
    const { alerts, seen, rules, sleeps, polls } = await runStory('basic');
    // The fake throttled some requests; each was retried after the wait it asked for.
    expect(sleeps.length).toBeGreaterThan(0);
    // Some audit blobs were hours late: the third poll still found a takeover alert.
    expect(polls.slice(2 * 7).some((n) => n > 0)).toBe(true);
    expect(rules).toEqual(expect.arrayContaining(['forwarding.external-inbox-rule', 'forwarding.external-mailbox-forwarding', 'login.legacy-protocol', 'login.password-spray']));
    // Nothing fired during the ordinary week.
    for (const a of alerts) expect(Date.parse(a.time)).toBeGreaterThanOrEqual(ATTACK);
    const victim = 'claire.dubois@party.example';
    expect(alerts.find((a) => a.rule === 'forwarding.external-mailbox-forwarding')?.summary).toContain('claire.backup@mail.example.net');
    expect(alerts.find((a) => a.rule === 'forwarding.external-inbox-rule')?.account).toBe(victim);
    expect(alerts.find((a) => a.rule === 'login.legacy-protocol')?.account).toBe(victim);

    const monitors = seen.filter((e) => e.kind === 'monitor');
    expect(monitors.map((e) => e.details.stream).sort()).toEqual(['risk-detections', 'signins']);
    for (const m of monitors) {
      expect(m.details.type).toBe('licence_missing');
      expect(String(m.details.missing)).toContain('Entra ID P1');
    }
    // The other data kept flowing: the mail sync burst and the app consent were read.
    expect(seen.filter((e) => e.kind === 'data_export' && e.details.method === 'mailbox_sync').length).toBe(6);
    expect(seen.some((e) => e.kind === 'app_consent' && (e.details.scopes as string[]).includes('Mail.Read'))).toBe(true);
    // Every event reached the rules once, whatever the overlap, late blobs and repeated records.
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
  });

  it('Business Premium (P1): Graph sign-ins add provider geo, so the new country is seen too', async () => {
    const { rules, seen, alerts } = await runStory('premium');
    expect(rules).toEqual(expect.arrayContaining(['forwarding.external-inbox-rule', 'forwarding.external-mailbox-forwarding', 'login.legacy-protocol', 'login.new-country', 'login.password-spray']));
    expect(alerts.find((a) => a.rule === 'login.new-country')?.summary).toContain('RU');
    expect(seen.filter((e) => e.kind === 'monitor')).toEqual([]);
    expect(seen.some((e) => e.kind === 'provider_alert' && e.details.name === 'entra.risk.unfamiliarFeatures')).toBe(true);
    // The Graph and audit-log copies of one sign-in share an id, so the spray is not counted twice.
    const spray = seen.filter((e) => e.kind === 'signin' && e.ip === '203.0.113.66' && e.outcome === 'failure');
    expect(spray).toHaveLength(10);
  });
});
