import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImapConnector, imapConnectorSchema } from '../../connectors/imap/index.js';
import { fixedClock } from '../../src/clock.js';
import { defaultConfig, type ConnectorConfig, type ReceiverConfig } from '../../src/config/load.js';
import { formatDoctor, runDoctor, type DoctorReport } from '../../src/doctor.js';
import { loadEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/log.js';
import { SHIPPED_RULES_DIR } from '../../src/paths.js';
import type { Connector } from '../../src/pipeline/connector.js';
import { connectorFor } from '../connectors/microsoft-365/setup.js';
import { setup as googleSetup } from '../connectors/google-workspace/setup.js';
import { startFakeMicrosoft365, type FakeMicrosoft365 } from '../fakes/microsoft-365/server.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { refusedUrl, startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const engine = loadEngine({ rulesDir: SHIPPED_RULES_DIR, overlays: [], clock: fixedClock(NOW), log: silentLogger });

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function m365(licence: 'basic' | 'premium'): Promise<{ fake: FakeMicrosoft365; connector: Connector; entry: ConnectorConfig }> {
  const clock = fixedClock(NOW);
  const fake = await startFakeMicrosoft365({ now: () => clock.now(), start: '2026-03-01T00:00:00Z', knobs: { licence } });
  const { connector, cfg } = connectorFor(fake, clock);
  closers.push(async () => {
    await connector.close?.();
    await fake.close();
  });
  return { fake, connector, entry: { ...cfg, type: 'microsoft-365', enabled: true, schedule: '*/5 * * * *', backfill: 7 * 86_400_000 } as ConnectorConfig };
}

async function doctor(connectors: Connector[], entries: ConnectorConfig[], receivers: ReceiverConfig[] = []): Promise<{ report: DoctorReport; text: string }> {
  const config = defaultConfig({ connectors: entries, receivers });
  const report = await runDoctor({ config, connectors, rules: engine.rules, clock: fixedClock(NOW), log: silentLogger, timeoutMs: 20_000 });
  return { report, text: formatDoctor(report) };
}

const row = (r: DoctorReport, rule: string) => r.coverage.find((c) => c.rule === rule)!;

describe('vigie doctor against the Microsoft 365 fake', () => {
  it('a tenant without Entra ID P1: the audit log carries sign-ins, Graph sign-ins need P1', async () => {
    const { connector, entry } = await m365('basic');
    const { report, text } = await doctor([connector], [entry]);

    const status = Object.fromEntries(report.streams.map((s) => [s.stream, s.status]));
    expect(status).toMatchObject({ 'audit-azure-ad': 'ok', 'audit-exchange': 'ok', signins: 'unlicensed', 'risk-detections': 'unlicensed', 'inbox-rules': 'ok' });
    expect(report.streams.find((s) => s.stream === 'signins')!.detail).toMatch(/Entra ID P1/);
    // Licence limits are said, not counted as problems to fix.
    expect(report.problems).toBe(0);

    const travel = row(report, 'login.impossible-travel');
    expect(travel.covered).toBe(true);
    expect(travel.by.join('; ')).toMatch(/^Microsoft 365 \(hq-m365\) via audit log \(geo from GeoIP\)/);
    expect(travel.gaps).toContain('Graph sign-ins need Entra ID P1');
    expect(text).toMatch(/login\.impossible-travel\s+yes\s+Microsoft 365 \(hq-m365\) via audit log \(geo from GeoIP\).*; Graph sign-ins need Entra ID P1/);

    // Rules only other providers can see are not covered, and say why.
    const takeout = row(report, 'export.domain-export');
    expect(takeout.covered).toBe(false);
    expect(takeout.gaps[0]).toMatch(/no connector that can see it .*Google Workspace/);
    expect(text).toContain('unified audit log: on, and the Management Activity API answers');
    expect(text).toMatch(/Rule coverage\nRULE +COVERED +BY \/ WHY NOT/);
  });

  it('a premium tenant: Graph sign-ins cover the sign-in rules too', async () => {
    const { connector, entry } = await m365('premium');
    const { report } = await doctor([connector], [entry]);
    expect(report.streams.every((s) => s.status === 'ok')).toBe(true);
    expect(row(report, 'login.impossible-travel').by[0]).toMatch(/Graph sign-ins \(geo and risk from Microsoft\)/);
    expect(row(report, 'login.impossible-travel').gaps).toEqual([]);
  });

  it('a permission not granted is a problem to fix, named with what to grant', async () => {
    const { fake, connector, entry } = await m365('premium');
    fake.knobs.missingPermissions = ['ActivityFeed.Read'];
    const { report, text } = await doctor([connector], [entry]);
    const audit = report.streams.find((s) => s.stream === 'audit-exchange')!;
    expect(audit.status).toBe('denied');
    expect(audit.detail).toMatch(/ActivityFeed\.Read/);
    expect(report.problems).toBeGreaterThan(0);
    expect(text).toMatch(/unified audit log: cannot be read/);
  });
});

describe('vigie doctor against the Google Workspace fake', () => {
  it('reads every stream; an API refused to the admin shows as denied with what is missing', async () => {
    const g = await googleSetup({ config: { gmail_settings: false } });
    g.fake.forbid('/admin/reports/v1/activity/users/all/applications/takeout');
    const entry = { ...g.cfg, type: 'google-workspace', enabled: true, schedule: '*/5 * * * *', backfill: 0 } as ConnectorConfig;
    const { report, text } = await doctor([g.connector], [entry]);
    const status = Object.fromEntries(report.streams.map((s) => [s.stream, s.status]));
    expect(status).toMatchObject({ 'reports-login': 'ok', 'reports-takeout': 'denied', 'alert-center': 'ok' });
    expect(text).toContain('gmail_settings is off (opt-in)');
    expect(row(report, 'login.new-country').by.join()).toMatch(/Google Workspace \(party-google\) via Reports login/);
    expect(row(report, 'forwarding.gmail-filter-forward').gaps.join()).toMatch(/Gmail settings snapshots not read: needs gmail_settings: true/);
  });
});

describe('vigie doctor against Dovecot, with receivers', () => {
  let dovecot: DovecotServer;
  let hook: WebhookServer;
  beforeAll(async () => {
    dovecot = await startDovecot();
    hook = await startWebhookServer();
  });
  afterAll(async () => {
    await dovecot?.dispose();
    await hook?.close();
  });

  function imap(extra: Record<string, unknown>) {
    const cfg = { name: 'nord', ...imapConnectorSchema.parse({ host: dovecot.host, port: dovecot.imapPort, tls: false, domain: 'party.example', ...extra }) };
    const connector = createImapConnector(cfg, { baseDir: dovecot.dir, domains: ['party.example'], clock: fixedClock(Date.now()) });
    closers.push(async () => connector.close?.());
    return { connector, entry: { ...cfg, type: 'imap', enabled: true, schedule: '*/5 * * * *', backfill: 0 } as unknown as ConnectorConfig };
  }

  it('checks the master user and the log; without the log, sign-in rules are not covered on IMAP', async () => {
    const withLog = imap({
      accounts: ['alice'],
      master_user: { user: dovecot.master.user, password_file: dovecot.master.passwordFile },
      dovecot_log: { path: dovecot.logPath },
    });
    const receivers = [
      { name: 'soc', type: 'webhook', timeout: 10_000, url: hook.url },
      { name: 'down', type: 'webhook', timeout: 10_000, url: await refusedUrl() },
    ] as ReceiverConfig[];
    let { report, text } = await doctor([withLog.connector], [withLog.entry], receivers);
    expect(text).toContain('IMAP login (master user or account passwords) works');
    expect(text).toContain('Dovecot log is readable');
    expect(row(report, 'login.brute-force').by).toEqual(['IMAP (nord) via Dovecot log (geo from GeoIP)']);
    expect(report.receivers.map((r) => [r.receiver, r.status])).toEqual([['soc', 'ok'], ['down', 'failed']]);
    expect(report.problems).toBe(1);

    const noLog = imap({ accounts: ['alice'], master_user: { user: dovecot.master.user }, password: 'wrong-password' });
    ({ report, text } = await doctor([noLog.connector], [noLog.entry]));
    expect(text).toContain('no dovecot_log configured: sign-in rules cannot see IMAP logins');
    expect(text).toMatch(/IMAP login fails/);
    const brute = row(report, 'login.brute-force');
    expect(brute.covered).toBe(false);
    expect(brute.gaps).toContain('Dovecot log not read: needs dovecot_log: (IMAP without the log has no sign-ins)');
  });
});
