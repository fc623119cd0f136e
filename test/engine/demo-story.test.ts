import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { readConfig } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import type { VigieConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { replay } from '../../src/replay.js';

/**
 * The story `vigie demo` tells (config/demo/, made by scripts/make-demo.mjs): raw records of three
 * providers, a quiet week, then the takeover of Alice Martin's accounts on Monday 10 March 2025.
 */
const root = path.resolve(import.meta.dirname, '../..');
const DEMO = path.join(root, 'config/demo');
const TAKEOVER_DAY = Date.parse('2025-03-10T00:00:00Z');
const FILES = ['microsoft-365-audit.jsonl', 'google-reports.jsonl', 'dovecot.log'];

/** Every record or log line of a demo file, with its time. */
function records(file: string): Array<{ text: string; time: number }> {
  const lines = fs.readFileSync(path.join(DEMO, file), 'utf8').split('\n').filter(Boolean);
  return lines.map((text) => {
    if (file.endsWith('.log')) return { text, time: Date.parse(text.slice(0, text.indexOf(' '))) };
    const r = JSON.parse(text) as { CreationTime?: string; id?: { time?: string } };
    return { text, time: Date.parse(r.CreationTime ? `${r.CreationTime}Z` : r.id!.time!) };
  });
}

let config: VigieConfig;
let dir: string;

/** What `vigie demo` does, on the demo's config: replay the files through src/replay.ts. */
async function run(inputs: string[], expectEvents = 0): Promise<Alert[]> {
  const { alerts, summary } = await replay({ inputs, config, notify: false, clock: fixedClock('2025-03-11T00:00:00Z'), log: silentLogger });
  expect(summary.skipped).toBe(0);
  expect(summary.events).toBeGreaterThan(expectEvents);
  return alerts;
}

beforeAll(() => {
  config = readConfig(path.join(DEMO, 'vigie.yml'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-demo-story-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('demo dataset (config/demo/)', () => {
  it('is what vigie.yml replays: three raw provider files, and Alice Martin on two providers', () => {
    const paths = config.connectors.flatMap((c) => (c as unknown as { paths: string[] }).paths.map((p) => path.basename(p)));
    expect(paths).toEqual(FILES);
    expect(config.organisation.domains).toEqual(['party.example']);
    expect(config.identity.people).toEqual([{ name: 'Alice Martin', accounts: ['alice@party.example', 'a.martin@youth.party.example'] }]);
    expect(fs.existsSync(path.join(DEMO, 'events.jsonl'))).toBe(false);
  });

  it('is a week of a dozen people on three providers, then a takeover', () => {
    const all = FILES.flatMap(records);
    const first = Math.min(...all.map((r) => r.time));
    expect(TAKEOVER_DAY - first).toBeGreaterThanOrEqual(7 * 86_400_000 - 8 * 3_600_000);
    const audit = records('microsoft-365-audit.jsonl').map((r) => JSON.parse(r.text) as Record<string, unknown>);
    const reports = records('google-reports.jsonl').map((r) => JSON.parse(r.text) as { actor: { email: string }; events: Array<{ name: string }> });
    const log = records('dovecot.log').map((r) => r.text);
    const people = new Set([
      ...audit.filter((r) => r.Operation === 'UserLoggedIn').map((r) => String(r.UserId).split('@')[0]),
      ...reports.filter((r) => r.events[0]!.name === 'login_success').map((r) => (r.actor.email === 'a.martin@youth.party.example' ? 'alice' : r.actor.email.split('@')[0])),
      ...log.flatMap((l) => /imap-login: Login: user=<([^@>]+)/.exec(l)?.[1] ?? []),
    ]);
    expect(people.size).toBe(12);
    expect(new Set(audit.map((r) => r.Operation))).toEqual(new Set(['UserLoggedIn', 'UserLoginFailed', 'New-InboxRule', 'MailItemsAccessed']));
    expect(new Set(reports.map((r) => r.events[0]!.name))).toEqual(
      new Set(['login_success', 'login_failure', 'email_forwarding_out_of_domain', 'gov_attack_warning']),
    );
    expect(log.some((l) => /body_count=4\d{3} /.test(l))).toBe(true); // Léa's new laptop
    expect(log.filter((l) => l.includes('auth failed')).length).toBeGreaterThanOrEqual(15);
  });

  it('fires nothing during the ordinary week', async () => {
    const inputs = FILES.map((f) => {
      const out = path.join(dir, f);
      const week = records(f).filter((r) => r.time < TAKEOVER_DAY);
      fs.writeFileSync(out, week.map((r) => `${r.text}\n`).join(''));
      return out;
    });
    const alerts = await run(inputs, 300);
    expect(alerts.map((a) => `${a.rule}: ${a.summary}`)).toEqual([]);
  });

  it('tells the takeover of Alice Martin, and nothing about the bystanders', async () => {
    const alerts = await run(FILES.map((f) => path.join(DEMO, f)));
    const rules = new Set(alerts.map((a) => a.rule));
    for (const rule of [
      'login.password-spray',
      'login.brute-force',
      'login.new-country',
      'login.impossible-travel',
      'login.success-after-failures',
      'forwarding.external-inbox-rule',
      'forwarding.hiding-rule',
      'forwarding.external-mailbox-forwarding',
      'login.provider-flagged',
      'export.mailbox-sync',
      'incident.account-takeover',
      'incident.exfiltration',
    ]) {
      expect(rules, rule).toContain(rule);
    }
    for (const a of alerts) {
      expect(Date.parse(a.time), a.rule).toBeGreaterThanOrEqual(TAKEOVER_DAY);
      // Alice, the spray (grouped by address), and the guesses at Karim's IMAP password: no one else.
      if (a.rule !== 'login.password-spray') expect([a.person, a.account], a.rule).toSatisfy(([p, acc]: [string?, string?]) => p === 'Alice Martin' || acc === 'karim@nord.party.example');
    }

    const one = (rule: string, who?: string) => {
      const hits = alerts.filter((a) => a.rule === rule && (!who || a.account === who || a.person === who));
      expect(hits, rule).toHaveLength(1);
      return hits[0]!;
    };
    const spray = one('login.password-spray');
    expect(spray).toMatchObject({ severity: 'high', count: 12 });
    expect(spray.summary).toContain('24.144.69.143');

    expect(one('login.brute-force', 'alice@party.example')).toMatchObject({ count: 12, person: 'Alice Martin' });
    expect(one('login.brute-force', 'karim@nord.party.example')).toMatchObject({ provider: 'imap', count: 15 });
    expect(one('login.new-country').summary).toContain('RU (St Petersburg)');

    // Alice's two accounts are one person: the intruder on Google, then Alice on Microsoft 365 in Paris.
    const travel = one('login.impossible-travel');
    expect(new Set(travel.evidence.map((e) => e.event_id.split(':')[0]))).toEqual(new Set(['google-workspace', 'microsoft-365']));
    expect(travel.explanation.join('\n')).toMatch(/St Petersburg, RU → Paris, FR: 2,166 km in 15 min/);

    const rule = one('forwarding.external-inbox-rule');
    expect(rule).toMatchObject({ severity: 'critical', account: 'alice@party.example' });
    expect(rule.summary).toBe('alice@party.example has an inbox rule forwarding mail to alice.martin.archive@mailbox.example');
    expect(one('forwarding.external-mailbox-forwarding').account).toBe('a.martin@youth.party.example');
    expect(one('login.provider-flagged')).toMatchObject({ severity: 'critical', account: 'a.martin@youth.party.example' });

    const takeover = one('incident.account-takeover');
    expect(takeover).toMatchObject({ severity: 'critical', person: 'Alice Martin' });
    expect(takeover.explanation.join('\n')).toMatch(/Step 2, .*forwarding\.external-inbox-rule/);
    expect(one('incident.exfiltration').explanation.join('\n')).toMatch(/export\.mailbox-sync/);
  });

  it('yields the same alerts on every replay', async () => {
    const inputs = FILES.map((f) => path.join(DEMO, f));
    expect(await run(inputs)).toEqual(await run(inputs));
  });
});
