import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { readConfig } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { bundledGeoIpPaths, createGeoIp } from '../../src/enrich/geoip.js';
import { createAsnTable, defaultAsnDir } from '../../src/enrich/asn.js';
import { lookupIp } from '../../src/enrich/ip.js';
import { silentLogger } from '../../src/log.js';
import { replay } from '../../src/replay.js';
import { ensureAsnTable } from '../helpers/asn-table.js';

const dir = path.resolve(import.meta.dirname, '../fixtures/quality');
const clock = fixedClock('2025-10-20T00:00:00Z');

async function run(input: string, configFile = path.join(dir, 'vigie.yml')): Promise<Alert[]> {
  const { alerts } = await replay({ inputs: [path.join(dir, input)], config: readConfig(configFile), notify: false, clock, log: silentLogger });
  return alerts;
}
const rules = (alerts: Alert[]) => [...new Set(alerts.map((a) => a.rule))].sort();

beforeAll(async () => {
  await ensureAsnTable();
}, 30_000);

describe('benign month (200 people, three providers, test/fixtures/quality/benign-month.jsonl)', () => {
  it('uses real public addresses that DB-IP and the ASN table place where the story says', () => {
    const geo = createGeoIp(bundledGeoIpPaths()!);
    const asn = createAsnTable(defaultAsnDir());
    const lines = fs.readFileSync(path.join(dir, 'benign-month.jsonl'), 'utf8').trim().split('\n');
    const ips = new Set(lines.map((l) => (JSON.parse(l) as { ip: string }).ip));
    const countries = new Map<string, number>();
    for (const ip of ips) {
      const l = lookupIp(ip);
      expect(l, ip).toBeDefined();
      const c = geo.lookup(l!)?.country ?? '??';
      countries.set(c, (countries.get(c) ?? 0) + 1);
      expect(asn.lookup(l!)?.asn, ip).toBeDefined();
    }
    // Home, office, mobile and the automation server in France; VPN exits in NL/DE; three trips.
    expect([...countries.keys()].sort()).toEqual(['CA', 'DE', 'ES', 'FR', 'JP', 'NL']);
    expect(lines.length).toBeGreaterThan(10_000);
  });

  it('yields at most five alerts, each one explained', async () => {
    const alerts = await run('benign-month.jsonl');
    expect(alerts.length).toBeLessThanOrEqual(5);
    // The only alerts are p050's trip to Spain, for which nobody added an exception: a new country
    // and a new network (the hotel's provider). Both are what the rules are for. The two trips
    // with exceptions (p010 to Canada, p130 to Japan) are silent; VPN users, phones on Free
    // Mobile, the shared headquarters address (trusted), typos before successes, the youth-wing
    // people with a second mailbox at headquarters, and the newsletter account that reads its
    // mailbox over IMAP from a rented server every hour are all learned or left out.
    expect(alerts.map((a) => `${a.rule} ${a.person}`).sort()).toEqual(['login.new-asn p050', 'login.new-country p050']);
    expect(alerts.find((a) => a.rule === 'login.new-country')!.summary).toContain('new country: ES');
  }, 60_000);

  it('an exception that ended the day before says so in the alert', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-quality-'));
    const overlay = fs.readFileSync(path.join(dir, 'travel.rules.yml'), 'utf8').replace('until: 2025-09-20', 'until: 2025-09-18');
    fs.writeFileSync(path.join(tmp, 'travel.rules.yml'), overlay);
    fs.writeFileSync(path.join(tmp, 'vigie.yml'), fs.readFileSync(path.join(dir, 'vigie.yml'), 'utf8'));
    const input = path.join(tmp, 'p010.jsonl');
    const lines = fs.readFileSync(path.join(dir, 'benign-month.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"p010@'));
    fs.writeFileSync(input, lines.join('\n') + '\n');
    const { alerts } = await replay({ inputs: [input], config: readConfig(path.join(tmp, 'vigie.yml')), notify: false, clock, log: silentLogger });
    const nc = alerts.find((a) => a.rule === 'login.new-country');
    expect(nc?.summary).toContain('new country: CA');
    expect(nc?.explanation.join('\n')).toMatch(/An exception "Congress of the sister party in Montreal" would have covered this event but ended at 2025-09-19T00:00:00.000Z/);
  }, 60_000);
});

describe('attack stories in raw provider formats', () => {
  it('Microsoft 365 (Graph sign-ins): spray from a cloud server, then a BAV2ROPC success', async () => {
    const alerts = await run('stories/microsoft-365-spray.jsonl');
    expect(rules(alerts)).toEqual(expect.arrayContaining(['login.password-spray', 'login.legacy-protocol', 'login.anonymizer', 'login.new-country']));
    expect(alerts.find((a) => a.rule === 'login.anonymizer')!.summary).toContain('through hosting AS14061 DigitalOcean');
  }, 30_000);

  it('Google Workspace (Reports login activities): guesses from Russia, success, 2SV off', async () => {
    const alerts = await run('stories/google-workspace-takeover.jsonl');
    expect(rules(alerts)).toEqual(
      expect.arrayContaining(['login.impossible-travel', 'login.new-country', 'login.new-asn', 'login.success-after-failures', 'account.mfa-disabled']),
    );
    expect(alerts.find((a) => a.rule === 'login.impossible-travel')!.summary).toMatch(/FR → .*RU/);
  }, 30_000);

  it('IMAP (Dovecot log, address only): brute force from Brazil, then a login', async () => {
    const alerts = await run('stories/imap-bruteforce.log');
    expect(rules(alerts)).toEqual(expect.arrayContaining(['login.brute-force', 'login.success-after-failures', 'login.new-country', 'login.new-asn']));
    expect(alerts.find((a) => a.rule === 'login.new-country')!.summary).toContain('BR');
  }, 30_000);
});
