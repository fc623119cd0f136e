import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAuditRecord } from '../../../connectors/microsoft-365/normalize-audit.js';
import type { Alert } from '../../../src/alerts/alert.js';
import { startFakeMicrosoft365, type FakeMicrosoft365 } from '../../fakes/microsoft-365/server.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from '../../helpers/webhook-server.js';

/**
 * The Microsoft 365 connector as a user runs it: `vigie once` (the built CLI, a child process)
 * against the fake tenant over https, alerts to a local webhook, state in a SQLite file.
 *
 * Trust: the fake's self-signed certificate reaches the child only through NODE_EXTRA_CA_CERTS, as
 * an operator behind a TLS-inspecting proxy would give it. Both Vigie's http client and
 * @azure/identity (token requests) then trust it; the config has no CA key.
 *
 * Time: the fake tenant's story happened in March 2025 (a week of ordinary use, then the takeover
 * on Tuesday 11 at 09:00 UTC), and a first run's backfill only trains baselines. So the child runs
 * with its clock shifted (a preload that offsets `Date`, like libfaketime) to the moments a cron
 * job would have run it: before the attack, the evening after, the next day. The fake serves what
 * is visible at the same shifted moment. TLS certificate checks keep the real time.
 */
const HOUR = 3_600_000;
const ATTACK = Date.parse('2025-03-11T09:00:00Z');
const VICTIM = 'claire.dubois@party.example';
const ATTACKER_IP = '203.0.113.66';

const dir = tmpDir('vigie-m365-once-');
let fake: FakeMicrosoft365;
let hook: WebhookServer;
let config: string;
let caFile: string;
let shiftPreload: string;
/** Shifted time minus real time, for the fake and for the child process. */
let offset = 0;

beforeAll(async () => {
  [fake, hook] = await Promise.all([
    startFakeMicrosoft365({ now: () => Date.now() + offset, knobs: { licence: 'basic', throttleRate: 0.01 } }),
    startWebhookServer(),
  ]);
  caFile = path.join(dir, 'fake-ca.pem');
  fs.writeFileSync(caFile, fake.ca);
  fs.writeFileSync(path.join(dir, 'm365-secret'), `${fake.clientSecret}\n`, { mode: 0o600 });
  shiftPreload = path.join(dir, 'shift-clock.mjs');
  fs.writeFileSync(
    shiftPreload,
    `// Test only: offsets Date by VIGIE_TEST_CLOCK_OFFSET_MS (timers and TLS keep the real time).
const offset = Number(process.env.VIGIE_TEST_CLOCK_OFFSET_MS ?? 0);
const Real = Date;
function ShiftedDate(...args) {
  if (!new.target) return new Real(Real.now() + offset).toString();
  return args.length === 0 ? new Real(Real.now() + offset) : new Real(...args);
}
ShiftedDate.prototype = Real.prototype;
ShiftedDate.now = () => Real.now() + offset;
ShiftedDate.parse = Real.parse;
ShiftedDate.UTC = Real.UTC;
globalThis.Date = ShiftedDate;
`,
  );
  config = path.join(dir, 'vigie.yml');
  fs.writeFileSync(
    config,
    `organisation: { name: Party HQ, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - name: hq-m365
    type: microsoft-365
    tenant_id: ${fake.tenantId}
    client_id: ${fake.clientId}
    client_secret_file: ./m365-secret
    base_urls: { login: "${fake.loginUrl}", graph: "${fake.graphUrl}", manage: "${fake.manageUrl}" }
receivers:
  - { name: hook, type: webhook, url: "${hook.url}" }
`,
  );
});
afterAll(async () => {
  await Promise.all([fake?.close(), hook?.close()]);
});

interface StreamReport {
  stream: string;
  records: number;
  events: number;
  duplicates: number;
  newAlerts: number;
}

/** `vigie once` with the clock at `at`; returns the CLI result and the runner's per-stream reports. */
async function onceAt(at: number): Promise<CliResult & { streams: Map<string, StreamReport> }> {
  offset = at - Date.now();
  const r = await runCli(['once', '-c', config], {
    env: {
      NODE_EXTRA_CA_CERTS: caFile,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${shiftPreload}`.trim(),
      VIGIE_TEST_CLOCK_OFFSET_MS: String(offset),
      VIGIE_LOG_LEVEL: 'info',
    },
    timeoutMs: 60_000,
  });
  const streams = new Map<string, StreamReport>();
  for (const line of r.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as Record<string, unknown>;
    if (l.msg === 'Stream run finished.' && l.source === 'hq-m365') streams.set(String(l.stream), l as unknown as StreamReport);
  }
  return { ...r, streams };
}

function alertsReceived(): Alert[] {
  return hook.requests.flatMap((r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts);
}

function seenIds(): Set<string> {
  const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
  try {
    return new Set((db.prepare('SELECT id FROM seen').all() as Array<{ id: string }>).map((r) => r.id));
  } finally {
    db.close();
  }
}

function cursorOf(stream: string): { c: Record<string, unknown>; since: number } {
  const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT cursor FROM cursors WHERE source = ? AND stream = ?').get('hq-m365', stream) as { cursor: string };
    return JSON.parse(row.cursor) as { c: Record<string, unknown>; since: number };
  } finally {
    db.close();
  }
}

/** Ids of the data_export events the takeover's audit records give (mail sync burst, eDiscovery export). */
function exportEventIds(method: string): string[] {
  return fake.tenant.audit
    .flatMap((a) => normalizeAuditRecord(a.item, { source: 'hq-m365' }))
    .filter((e) => e.kind === 'data_export' && e.details.method === method && e.ip === ATTACKER_IP)
    .map((e) => e.id);
}

describe('microsoft-365 through `vigie once` against the fake tenant', () => {
  it('Business Basic: the takeover alerts arrive at the webhook from the audit path; one monitor event per P1 stream', async () => {
    // The morning of the attack, an hour before it: the week before is backfill.
    const first = await onceAt(ATTACK - HOUR);
    expect(first.code, first.stderr).toBe(0);
    expect(alertsReceived()).toEqual([]);
    // The https fakes were trusted through NODE_EXTRA_CA_CERTS alone: tokens were issued and the APIs answered.
    expect(fake.tokensIssued.some((t) => t.startsWith('fake-graph'))).toBe(true);
    expect(fake.tokensIssued.some((t) => t.startsWith('fake-manage'))).toBe(true);
    expect(first.streams.get('audit-azure-ad')!.records).toBeGreaterThan(100);
    expect(first.streams.get('inbox-rules')!.records).toBeGreaterThan(0);

    const second = await onceAt(ATTACK + 12 * HOUR);
    expect(second.code, second.stderr).toBe(0);
    const alerts = alertsReceived();
    const rules = [...new Set(alerts.map((a) => a.rule))];
    expect(rules).toEqual(
      expect.arrayContaining(['forwarding.external-inbox-rule', 'forwarding.external-mailbox-forwarding', 'login.legacy-protocol', 'login.password-spray']),
    );
    expect(alerts.find((a) => a.rule === 'forwarding.external-inbox-rule')!.account).toBe(VICTIM);
    expect(alerts.find((a) => a.rule === 'forwarding.external-inbox-rule')!.summary).toContain('claire.archive@mail.example.net');
    expect(alerts.find((a) => a.rule === 'forwarding.external-mailbox-forwarding')!.summary).toContain('claire.backup@mail.example.net');
    expect(alerts.find((a) => a.rule === 'login.legacy-protocol')!.account).toBe(VICTIM);
    // Nothing about the ordinary week.
    for (const a of alerts) expect(Date.parse(a.time)).toBeGreaterThanOrEqual(ATTACK);
    // Each alert reached the webhook once.
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);

    // The mail sync burst and the eDiscovery export were read (no shipped rule on them yet: export rules come later).
    const seen = seenIds();
    const sync = exportEventIds('mailbox_sync');
    const ediscovery = exportEventIds('ediscovery');
    expect(sync).toHaveLength(6);
    expect(ediscovery).toHaveLength(2);
    for (const id of [...sync, ...ediscovery]) expect(seen.has(id), id).toBe(true);

    // No Entra P1: one monitor event for each Graph stream that needs it, and those streams rest.
    const monitors = [...seen].filter((id) => /^microsoft-365:(signins|risk-detections):licence_missing:/.test(id));
    expect(monitors.map((id) => id.split(':')[1]).sort()).toEqual(['risk-detections', 'signins']);
    expect(cursorOf('signins').c.skipped).toMatchObject({ reason: 'licence_missing' });
    expect(fake.requests.filter((r) => r.path.startsWith('/v1.0/auditLogs/signIns'))).toHaveLength(1);
    // ...while the audit path, and the Graph directory audits (no P1 needed), went on in that same run.
    expect(second.streams.get('audit-exchange')!.events).toBeGreaterThan(5);
    expect(second.streams.get('directory-audits')!.records).toBeGreaterThan(0);
    expect(second.streams.get('signins')!.records).toBe(0);
  }, 120_000);

  it('the tenant buys Entra P1: a day later the resting Graph streams look again and are read', async () => {
    fake.knobs.licence = 'premium';
    const before = seenIds();
    const requestsBefore = fake.requests.length;
    const run = await onceAt(ATTACK + 36 * HOUR);
    expect(run.code, run.stderr).toBe(0);
    const graph = fake.requests.slice(requestsBefore).filter((r) => r.server === 'graph').map((r) => r.path);
    expect(graph.some((p) => p.startsWith('/v1.0/auditLogs/signIns'))).toBe(true);
    expect(graph.some((p) => p.startsWith('/v1.0/identityProtection/riskDetections'))).toBe(true);
    expect(graph.some((p) => p.startsWith('/v1.0/auditLogs/directoryAudits'))).toBe(true);
    // Sign-ins: the Graph copies share their ids with the audit-log copies already seen, so they are read and deduped.
    const signins = run.streams.get('signins')!;
    expect(signins.records).toBeGreaterThan(100);
    expect(signins.duplicates).toBeGreaterThan(100);
    expect(cursorOf('signins').c).not.toHaveProperty('skipped');
    expect(cursorOf('risk-detections').c).not.toHaveProperty('skipped');
    // Risk detections only exist in Graph: Microsoft's verdict on the attacker's sign-in is new.
    const added = [...seenIds()].filter((id) => !before.has(id));
    expect(added).toContain('microsoft-365:risk-detections:1a7e0c55d2b4f9a3e6c1b7d80f2e4a19');
    // Directory audits need no P1: they were read all along, and the 30 min overlap had nothing new.
    expect(run.streams.get('directory-audits')!.newAlerts).toBe(0);
  }, 120_000);

  it('a restart re-reads the overlapping windows and sends nothing twice', async () => {
    const hookBefore = hook.requests.length;
    const alertsInStore = (() => {
      const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
      const n = (db.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number }).n;
      db.close();
      return n;
    })();
    const previous = { signins: cursorOf('signins').c.since as number, exchange: cursorOf('audit-exchange').c.until as number };
    const requestsBefore = fake.requests.length;

    const run = await onceAt(ATTACK + 36 * HOUR + 20 * 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(hook.requests.length).toBe(hookBefore);
    const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number }).n).toBe(alertsInStore);
    expect((db.prepare(`SELECT count(*) AS n FROM outbox WHERE status != 'delivered'`).get() as { n: number }).n).toBe(0);
    db.close();

    const paths = fake.requests.slice(requestsBefore).map((r) => new URL(r.path, 'https://fake.invalid'));
    // Management API: the listing starts 24 h behind where the last run ended.
    const listings = paths.filter((u) => u.pathname.endsWith('/subscriptions/content') && u.searchParams.get('contentType') === 'Audit.Exchange');
    const firstStart = Math.min(...listings.map((u) => Date.parse(`${u.searchParams.get('startTime')}Z`)));
    expect(firstStart).toBe(Math.floor((previous.exchange - 24 * HOUR) / 1000) * 1000);
    // ...and skips the blobs it already fetched.
    expect(paths.filter((u) => u.pathname.includes('/activity/feed/audit/'))).toHaveLength(0);
    // Graph sign-ins: the filter starts 30 min behind the last run.
    const signIns = paths.find((u) => u.pathname === '/v1.0/auditLogs/signIns')!;
    expect(signIns.searchParams.get('$filter')).toContain(`createdDateTime ge ${new Date(previous.signins - 30 * 60_000).toISOString()}`);
    // The inbox rules were read again, unchanged.
    expect(paths.some((u) => u.pathname === '/v1.0/$batch')).toBe(true);
    expect(run.streams.get('inbox-rules')!.newAlerts).toBe(0);
  }, 120_000);
});
